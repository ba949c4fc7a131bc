// Wrapper module that pins pluto for bench/upgrade-scan-vs-pluto.ts (built by build.sh).
// The Go module proxy answers 403 for this module (every version), so build.sh builds the same
// version from the upstream source at the tag (PLUTO_SRC); see build.sh.
module tenkai.local/bench/pluto

go 1.26.0

require github.com/fairwindsops/pluto/v5 v5.24.0

tool github.com/fairwindsops/pluto/v5/cmd/pluto

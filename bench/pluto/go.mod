// Wrapper module that pins pluto for bench/upgrade-scan-vs-pluto.ts (built by build.sh).
module tenkai.local/bench/pluto

go 1.26.0

require github.com/fairwindsops/pluto/v5 v5.24.0

tool github.com/fairwindsops/pluto/v5/cmd/pluto

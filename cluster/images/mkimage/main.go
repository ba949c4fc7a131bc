// mkimage writes a single-layer image holding static binaries as an archive that
// `ctr images import` reads (docker save layout, with the OCI index), without a registry.
//
//	mkimage -tag tenkai.local/probe:0.1.0 -out probe.tar -entrypoint /probe -file /probe=path/to/probe [-file ...]
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	tag := flag.String("tag", "", "image reference, e.g. tenkai.local/probe:0.1.0")
	out := flag.String("out", "", "archive to write")
	entrypoint := flag.String("entrypoint", "", "entrypoint, space separated")
	var fs files
	flag.Var(&fs, "file", "IMAGEPATH=HOSTPATH, repeatable (mode 0755)")
	flag.Parse()
	if *tag == "" || *out == "" || len(fs) == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkimage -tag REF -out FILE -entrypoint CMD -file /path=hostpath...")
		os.Exit(2)
	}
	if err := run(*tag, *out, strings.Fields(*entrypoint), fs); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(tag, out string, entrypoint []string, fs files) error {
	ref, err := name.NewTag(tag, name.WeakValidation)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// A fixed timestamp keeps the layer digest stable across builds of the same binaries.
	epoch := time.Unix(0, 0)
	for _, dir := range []string{"tmp/", "etc/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o1777, ModTime: epoch}); err != nil {
			return err
		}
	}
	for _, f := range fs {
		imagePath, hostPath, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("-file %q: want IMAGEPATH=HOSTPATH", f)
		}
		data, err := os.ReadFile(hostPath)
		if err != nil {
			return err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(imagePath, "/"), Mode: 0o755, Size: int64(len(data)), ModTime: epoch}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerBytes)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Entrypoint = entrypoint
	cf.Config.Env = []string{"PATH=/"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, ref, img)
}

// ocipack builds rampart's container image without a container engine: one layer, made from
// scratch, holding the statically linked binary, a passwd/group entry for the non-root user
// 65532, the CA bundle and the time-zone database of the build machine (what distroless/static
// provides), and no shell. The image is written as an OCI image layout in a tar file, which
// `skopeo copy oci-archive:FILE docker://REGISTRY/rampart:TAG`, `podman load` and
// `ctr images import` accept.
//
// Usage:
//
//	ocipack --binary target/.../rampart --out rampart-oci.tar [--tag 0.1.0]
//	        [--ca-bundle /etc/ssl/certs/ca-certificates.crt] [--zoneinfo /usr/share/zoneinfo]
//
// The output is reproducible: every timestamp is SOURCE_DATE_EPOCH (default 0).
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The user the operator runs as: distroless' "nonroot".
const uid = 65532

func main() {
	binary := flag.String("binary", "", "statically linked rampart binary")
	out := flag.String("out", "", "output: OCI image layout as a tar file")
	tag := flag.String("tag", "latest", "tag recorded in the layout's index (org.opencontainers.image.ref.name)")
	caBundle := flag.String("ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to include (empty: none)")
	zoneinfo := flag.String("zoneinfo", "/usr/share/zoneinfo", "time-zone database to include (empty: none)")
	flag.Parse()
	if *binary == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "--binary and --out are required")
		os.Exit(2)
	}
	epoch := time.Unix(sourceDateEpoch(), 0).UTC()
	rootfs, err := buildRootfs(*binary, *caBundle, *zoneinfo, epoch)
	if err != nil {
		fail(err)
	}
	img, err := image(rootfs, *tag, epoch)
	if err != nil {
		fail(err)
	}
	if err := writeLayoutTar(img, *tag, *out); err != nil {
		fail(err)
	}
}

func sourceDateEpoch() int64 {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return 0
}

// rootfs is the single layer's tar, built in memory (a few tens of MB at most).
type rootfs struct {
	buf   bytes.Buffer
	w     *tar.Writer
	epoch time.Time
	dirs  map[string]bool
}

func (r *rootfs) dir(name string) error {
	if name == "." || name == "/" || r.dirs[name] {
		return nil
	}
	if err := r.dir(filepath.Dir(name)); err != nil {
		return err
	}
	r.dirs[name] = true
	return r.w.WriteHeader(&tar.Header{
		Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: r.epoch, Format: tar.FormatPAX,
	})
}

func (r *rootfs) file(name string, mode int64, data []byte) error {
	if err := r.dir(filepath.Dir(name)); err != nil {
		return err
	}
	h := &tar.Header{
		Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)),
		ModTime: r.epoch, Format: tar.FormatPAX,
	}
	if err := r.w.WriteHeader(h); err != nil {
		return err
	}
	_, err := r.w.Write(data)
	return err
}

func (r *rootfs) symlink(name, target string) error {
	if err := r.dir(filepath.Dir(name)); err != nil {
		return err
	}
	return r.w.WriteHeader(&tar.Header{
		Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777,
		ModTime: r.epoch, Format: tar.FormatPAX,
	})
}

// copyTree adds every regular file and symlink under src (sorted, so the layer is stable).
func (r *rootfs) copyTree(src, dest string) error {
	var paths []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(src, p)
		name := filepath.Join(dest, rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := r.symlink(name, target); err != nil {
				return err
			}
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := r.file(name, 0o644, data); err != nil {
			return err
		}
	}
	return nil
}

func buildRootfs(binary, caBundle, zoneinfo string, epoch time.Time) (*rootfs, error) {
	r := &rootfs{epoch: epoch, dirs: map[string]bool{}}
	r.w = tar.NewWriter(&r.buf)
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	if err := r.file("rampart", 0o755, bin); err != nil {
		return nil, err
	}
	// Names for the two users, so tools that look the uid up find one; no login shell exists.
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", uid, uid)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", uid)
	if err := r.file("etc/passwd", 0o644, []byte(passwd)); err != nil {
		return nil, err
	}
	if err := r.file("etc/group", 0o644, []byte(group)); err != nil {
		return nil, err
	}
	if caBundle != "" {
		data, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, err
		}
		if err := r.file("etc/ssl/certs/ca-certificates.crt", 0o644, data); err != nil {
			return nil, err
		}
	}
	if zoneinfo != "" {
		if err := r.copyTree(zoneinfo, "usr/share/zoneinfo"); err != nil {
			return nil, err
		}
	}
	if err := r.w.Close(); err != nil {
		return nil, err
	}
	return r, nil
}

func image(r *rootfs, tag string, epoch time.Time) (v1.Image, error) {
	layerBytes := r.buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: "ocipack: rampart binary, passwd, CA bundle, zoneinfo",
		},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = "amd64"
	cfg.OS = "linux"
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config = v1.Config{
		Entrypoint:   []string{"/rampart", "run"},
		User:         fmt.Sprintf("%d:%d", uid, uid),
		WorkingDir:   "/",
		Env:          []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels: map[string]string{
			"org.opencontainers.image.title":    "rampart",
			"org.opencontainers.image.version":  tag,
			"org.opencontainers.image.licenses": "Apache-2.0",
		},
	}
	return mutate.ConfigFile(img, cfg)
}

// writeLayoutTar writes the OCI image layout into a temporary directory and packs it.
func writeLayoutTar(img v1.Image, tag, out string) error {
	dir, err := os.MkdirTemp("", "ocipack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := path.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
	})); err != nil {
		return err
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := tar.NewWriter(f)
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if err := w.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: int64(len(data)),
			ModTime: time.Unix(sourceDateEpoch(), 0), Format: tar.FormatPAX,
		}); err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ocipack:", err)
	os.Exit(1)
}

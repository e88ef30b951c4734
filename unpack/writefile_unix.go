//go:build unix

package unpack

import (
	"io/fs"
	"syscall"
)

// Tree files are written with plain system calls: os.Create also sets the
// file non-blocking, offers it to the network poller (which refuses a
// regular file) and sets it blocking again, four more calls a file, and a
// tree has hundreds of files (measured with strace).

// treeFileWriter is a file being written.
type treeFileWriter struct {
	fd   int
	path string
}

// createTreeFile creates (or truncates) p with mode 0644 (less the umask).
func createTreeFile(p string) (*treeFileWriter, error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return syscall.Open(p, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return &treeFileWriter{fd: fd, path: p}, nil
}

func (w *treeFileWriter) Write(data []byte) (int, error) {
	written := 0
	for written < len(data) {
		n, err := ignoringEINTR(func() (int, error) { return syscall.Write(w.fd, data[written:]) })
		if err != nil {
			return written, &fs.PathError{Op: "write", Path: w.path, Err: err}
		}
		written += n
	}
	return written, nil
}

func (w *treeFileWriter) Close() error {
	if err := syscall.Close(w.fd); err != nil {
		return &fs.PathError{Op: "close", Path: w.path, Err: err}
	}
	return nil
}

// writeTreeFile writes data to p in three system calls.
func writeTreeFile(p string, data []byte) error {
	w, err := createTreeFile(p)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func ignoringEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// readTreeFile reads a whole file with open, fstat, read and close (os.ReadFile
// adds the network poller's calls, as above).
func readTreeFile(p string) ([]byte, error) {
	fd, err := ignoringEINTR(func() (int, error) { return syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0) })
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	// One byte more than the size, so a file that grew is read to its end.
	data := make([]byte, 0, st.Size+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := ignoringEINTR(func() (int, error) { return syscall.Read(fd, data[len(data):cap(data)]) })
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			return data, nil
		}
		data = data[:len(data)+n]
	}
}

package apptest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Options configure an instance.
type Options struct {
	DatabaseURL string // required; several instances may share one database

	// Env (NAME=value) overrides the harness's defaults (APP_ENV=development,
	// PUBLIC_URL=<URL>, METRICS_ADDR=off); ADDR and DATABASE_URL come from Addr
	// and DatabaseURL. Nothing else of the caller's environment reaches the app,
	// so a developer's own DATABASE_URL or ORCHESTRATE_API_KEY never leaks in.
	Env []string

	Addr         string        // the shop's address; "" picks a free loopback port
	LogPath      string        // the app's stdout and stderr, kept across restarts; "" is a temporary file Close removes
	ReadyTimeout time.Duration // how long /readyz may take to answer 200; 0 is 60 s
	StopTimeout  time.Duration // how long Stop waits after SIGTERM before SIGKILL; 0 is 10 s
}

// Instance is one running (or stopped) app process.
type Instance struct {
	URL     string // http://<Addr>, also the app's PUBLIC_URL unless Env sets another
	Addr    string
	LogPath string

	path    string
	env     []string
	log     *os.File
	tempLog bool
	ready   time.Duration
	stop    time.Duration
	cmd     *exec.Cmd     // nil while stopped
	exited  chan struct{} // closed when cmd has exited; waitErr is its exit then
	waitErr error
}

// Start builds the binary if needed, starts an instance and waits until it is
// ready. On error nothing is left running and the error carries the end of the
// app's log.
func (b *Binary) Start(ctx context.Context, o Options) (*Instance, error) {
	if o.DatabaseURL == "" {
		return nil, errors.New("apptest: Options.DatabaseURL is required")
	}
	path, err := b.Path(ctx)
	if err != nil {
		return nil, err
	}
	in := &Instance{Addr: o.Addr, LogPath: o.LogPath, path: path, ready: o.ReadyTimeout, stop: o.StopTimeout}
	if in.Addr == "" {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		in.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	in.URL = "http://" + in.Addr
	if in.ready == 0 {
		in.ready = 60 * time.Second
	}
	if in.stop == 0 {
		in.stop = 10 * time.Second
	}
	in.env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"APP_ENV=development",
		"PUBLIC_URL=" + in.URL,
		"METRICS_ADDR=off", // several instances run at once and none is scraped
	}, o.Env...)
	in.env = append(in.env, "ADDR="+in.Addr, "DATABASE_URL="+o.DatabaseURL) // last, so they win

	if in.LogPath == "" {
		in.log, err = os.CreateTemp("", "checkout-app-*.log")
		in.tempLog = true
	} else {
		in.log, err = os.Create(in.LogPath)
	}
	if err != nil {
		return nil, err
	}
	in.LogPath = in.log.Name()
	if err := in.Restart(ctx); err != nil {
		in.Close() //nolint:errcheck // the start's error says more
		return nil, err
	}
	return in, nil
}

// Restart starts the stopped instance again — same address, database,
// environment and log — and waits until it is ready. Start calls it first.
func (in *Instance) Restart(ctx context.Context) error {
	if in.cmd != nil {
		return errors.New("apptest: the instance is running")
	}
	cmd := exec.Command(in.path)
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = in.log, in.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the app: %w", err)
	}
	exited := make(chan struct{})
	in.cmd, in.exited = cmd, exited
	go func() { in.waitErr = cmd.Wait(); close(exited) }()
	if err := WaitReady(ctx, in.URL+"/readyz", exited, in.ready); err != nil {
		select {
		case <-exited:
			err = fmt.Errorf("%w (%v)", err, in.waitErr)
		default:
		}
		in.Kill() //nolint:errcheck // not ready is the error
		return fmt.Errorf("the app did not become ready: %w\n%s:\n%s", err, in.logName(), tailFile(in.LogPath, 100))
	}
	return nil
}

// logName names the log in messages; a temporary one is gone once read.
func (in *Instance) logName() string {
	if in.tempLog {
		return "app log"
	}
	return "app log (" + in.LogPath + ")"
}

// Pid is the running process's id, 0 when stopped.
func (in *Instance) Pid() int {
	if in.cmd == nil {
		return 0
	}
	return in.cmd.Process.Pid
}

// Stop sends SIGTERM, so the app shuts down gracefully and lets go of its
// database, and waits (Wait): it returns the app's exit error, nil for status
// 0, and an app still running after StopTimeout is killed and Stop says so.
// Stopping a stopped instance does nothing.
func (in *Instance) Stop() error {
	if in.cmd == nil {
		return nil
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	if err := in.Wait(in.stop); err != nil {
		return fmt.Errorf("stopping the app: %w", err)
	}
	return nil
}

// Kill sends SIGKILL and waits: no shutdown, no deferred work, as a crash.
func (in *Instance) Kill() error {
	if in.cmd == nil {
		return nil
	}
	err := in.cmd.Process.Kill()
	<-in.exited
	in.cmd = nil
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Close stops the instance and closes its log, removing a temporary one.
func (in *Instance) Close() error {
	err := in.Stop()
	if in.log != nil {
		in.log.Close()
		if in.tempLog {
			os.Remove(in.LogPath)
		}
		in.log = nil
	}
	return err
}

// WaitReady polls url until it answers 200; it gives up when exited is closed
// (the process ended), ctx ends or timeout passes.
func WaitReady(ctx context.Context, url string, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s = %d", url, resp.StatusCode)
		}
		select {
		case <-exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w (%v)", timeout, err, ctx.Err())
		case <-tick.C:
		}
	}
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 2*n {
			lines = lines[len(lines)-n:]
		}
	}
	if err := sc.Err(); err != nil {
		lines = append(lines, fmt.Sprintf("(reading the log: %v)", err))
	}
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (the first lines are in %s)", path)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

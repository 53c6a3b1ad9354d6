package apptest

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Signal sends sig to the running instance without waiting, so a test can watch
// it shut down; Wait then collects its exit.
func (in *Instance) Signal(sig os.Signal) error {
	if in.cmd == nil {
		return errors.New("apptest: the instance is not running")
	}
	return in.cmd.Process.Signal(sig)
}

// Exited is closed once the running instance's process has exited.
func (in *Instance) Exited() <-chan struct{} { return in.exited }

// Wait waits up to timeout for the instance to exit and returns its exit error:
// nil for status 0. Still running after timeout, it is killed and Wait says so.
func (in *Instance) Wait(timeout time.Duration) error {
	if in.cmd == nil {
		return errors.New("apptest: the instance is not running")
	}
	select {
	case <-in.exited:
		in.cmd = nil
		return in.waitErr
	case <-time.After(timeout):
		in.Kill() //nolint:errcheck // reported below
		return fmt.Errorf("the app did not exit within %s; killed it", timeout)
	}
}

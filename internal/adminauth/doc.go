// Package adminauth is the merchant's sign-in apart from HTTP: the configured
// admin password and how a submitted one is compared with it (password.go), the
// sign-in throttle every instance shares through PostgreSQL (throttle.go), and
// pruning expired admin sessions (sessions.go). The handlers serve the sign-in
// page and keep the session.
package adminauth

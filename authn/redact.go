package authn

import (
	"errors"
	"strings"
)

// redacted replaces a credential found in a message.
const redacted = "[redacted]"

// redact returns s with every occurrence of secret replaced, so a backend that echoes a token
// in its message cannot leak it into our errors or logs.
func redact(s, secret string) string {
	if secret == "" || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, redacted)
}

func redactAll(ss []string, secret string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = redact(s, secret)
	}
	return out
}

// redactErr returns err unchanged unless its message contains secret. Then it returns an
// error with the redacted message that still matches err's chain with errors.Is (so
// context.DeadlineExceeded stays recognisable) but does not unwrap to the original, whose
// message would reveal the secret.
func redactErr(err error, secret string) error {
	msg := err.Error()
	if secret == "" || !strings.Contains(msg, secret) {
		return err
	}
	return &redactedError{msg: redact(msg, secret), orig: err}
}

type redactedError struct {
	msg  string
	orig error
}

func (e *redactedError) Error() string { return e.msg }

// Is lets errors.Is see through to the original error's chain without exposing it.
func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }

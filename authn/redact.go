package authn

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// redacted replaces a credential found in a message.
const redacted = "[redacted]"

// fragment is the length of the pieces of a secret that quotesSecret looks for: any run of at
// least 2*fragment-1 bytes of the secret holds one of its pieces that start at a multiple of
// fragment.
const fragment = 8

// quotesSecret reports whether s holds secret or a piece of it of 15 bytes or more, as is or
// escaped as Go's %q writes it. A backend may echo a token cut short (client-go keeps only the
// first 2 KiB of an error body) or quoted, which an exact search would miss.
func quotesSecret(s, secret string) bool {
	if secret == "" {
		return false
	}
	if holdsPiece(s, secret) {
		return true
	}
	quoted := strconv.Quote(secret)
	quoted = quoted[1 : len(quoted)-1]
	return quoted != secret && holdsPiece(s, quoted)
}

// holdsPiece reports whether s holds secret (when it is at most fragment bytes long) or one of
// its pieces of fragment bytes that start at a multiple of fragment, or its last fragment bytes.
func holdsPiece(s, secret string) bool {
	if len(secret) <= fragment {
		return strings.Contains(s, secret)
	}
	for i := 0; i+fragment <= len(secret); i += fragment {
		if strings.Contains(s, secret[i:i+fragment]) {
			return true
		}
	}
	return strings.Contains(s, secret[len(secret)-fragment:])
}

// redact returns s with every occurrence of secret replaced, so a backend that echoes a token
// in its message cannot leak it into our errors or logs. If a piece of secret remains (an
// echo cut short or escaped), the whole of s is withheld.
func redact(s, secret string) string {
	if !quotesSecret(s, secret) {
		return s
	}
	s = strings.ReplaceAll(s, secret, redacted)
	if quotesSecret(s, secret) {
		return redacted
	}
	return s
}

func redactAll(ss []string, secret string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = redact(s, secret)
	}
	return out
}

// redactErr returns err unchanged unless its message quotes secret (see quotesSecret). Then it
// returns an error with the message redacted, or, when a piece of the secret would remain,
// with only the HTTP status of an API error and no message. The error still matches err's
// chain with errors.Is (so context.DeadlineExceeded stays recognisable) but does not unwrap to
// the original, whose message would reveal the secret.
func redactErr(err error, secret string) error {
	msg := err.Error()
	if !quotesSecret(msg, secret) {
		return err
	}
	msg = strings.ReplaceAll(msg, secret, redacted)
	if quotesSecret(msg, secret) {
		msg = withheld(err)
	}
	return &redactedError{msg: msg, orig: err}
}

// withheld describes err without its message.
func withheld(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		return fmt.Sprintf("the server answered %d %s (its message quoted the token and is withheld)", s.Code, s.Reason)
	}
	return "the error message quoted the token and is withheld"
}

type redactedError struct {
	msg  string
	orig error
}

func (e *redactedError) Error() string { return e.msg }

// Is lets errors.Is see through to the original error's chain without exposing it.
func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }

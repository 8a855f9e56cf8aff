package attributes

import (
	"fmt"
	"net/http"
)

// CanonicalPath returns the path of r that is authorized and then routed, r.URL.Path, when it is
// canonical, or an error wrapping [ErrNonCanonicalPath] when it is not.
//
// It refuses rather than cleans, so that a request can never be authorized as one endpoint and
// served as another by whatever mux is wrapped: muxes disagree on dot segments, empty segments,
// encoded slashes and double decoding, and cleaning would have to guess which rules the wrapped
// mux follows. A path is refused when:
//
//   - r, r.URL or the path is missing, the URL is opaque, or the path does not start with "/"
//     ("*" from "OPTIONS *" is refused);
//   - it has an empty segment ("//"), or a "." or ".." segment;
//   - it contains a backslash, a percent sign (a decoded "%25"), a NUL or another control
//     character (below 0x20, or 0x7F);
//   - r.URL.RawPath is set and is not an encoding of r.URL.Path, or contains an encoded slash,
//     dot, backslash or percent sign (%2F, %2E, %5C, %25, in any case), because some muxes route
//     on the escaped path and others on the decoded one.
//
// A trailing slash is canonical: "/logs/" is accepted, and so is "/". The query is not part of
// the path: "/stats/summary?x=../" is accepted as "/stats/summary". Every path that is accepted
// is one http.ServeMux routes unchanged: it would not redirect it to a cleaned path.
//
// CanonicalPath does not modify r and is safe for concurrent use.
func CanonicalPath(r *http.Request) (string, error) {
	if r == nil || r.URL == nil {
		return "", nonCanonical("", "request has no URL")
	}
	u := r.URL
	p := u.Path
	switch {
	case u.Opaque != "":
		return "", nonCanonical(u.Opaque, "URL is opaque")
	case p == "" || p[0] != '/':
		return "", nonCanonical(p, "path is not absolute")
	}
	if reason := decodedProblem(p); reason != "" {
		return "", nonCanonical(p, reason)
	}
	if u.RawPath != "" {
		// EscapedPath returns RawPath only when it is a valid encoding of Path.
		if u.EscapedPath() != u.RawPath {
			return "", nonCanonical(p, "escaped path does not match the path")
		}
		if reason := escapedProblem(u.RawPath); reason != "" {
			return "", nonCanonical(p, reason)
		}
	}
	return p, nil
}

// decodedProblem returns why the absolute decoded path p is not canonical, or "" when it is.
func decodedProblem(p string) string {
	segStart := 1 // index of the first byte of the current segment; p[0] is '/'
	for i := 1; i <= len(p); i++ {
		if i < len(p) {
			switch c := p[i]; {
			case c < 0x20 || c == 0x7f:
				return "control character"
			case c == '\\':
				return "backslash"
			case c == '%':
				return "percent sign"
			case c != '/':
				continue
			}
		}
		// p[segStart:i] is a whole segment, ended by a '/' or by the end of the path.
		switch seg := p[segStart:i]; seg {
		case "":
			if i < len(p) {
				return "empty segment"
			}
			// An empty last segment is a trailing slash, or the root "/".
		case ".", "..":
			return "dot segment"
		}
		segStart = i + 1
	}
	return ""
}

// escapedProblem returns why the escaped path raw is not canonical, or "" when it is.
func escapedProblem(raw string) string {
	for i := 0; i+2 < len(raw); i++ {
		if raw[i] != '%' {
			continue
		}
		switch hi, lo := raw[i+1], raw[i+2]|0x20; { // |0x20 lowercases a letter
		case hi == '2' && lo == 'f':
			return "encoded slash"
		case hi == '2' && lo == 'e':
			return "encoded dot"
		case hi == '5' && lo == 'c':
			return "encoded backslash"
		case hi == '2' && raw[i+2] == '5':
			return "encoded percent sign"
		}
	}
	return ""
}

func nonCanonical(p, reason string) error {
	return fmt.Errorf("%w: %s: %q", ErrNonCanonicalPath, reason, truncate(p))
}

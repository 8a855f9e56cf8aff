package authfilter

import (
	"net/http"
	"strings"

	"github.com/authfilter/authfilter/authn"
)

// strippedHeaders are removed from a passed request: the credential, and identity claims that
// a handler behind the filter might otherwise trust.
var strippedHeaders = []string{"Authorization"}

// strippedPrefixes are header prefixes removed like strippedHeaders.
var strippedPrefixes = []string{"Impersonate-", "X-Remote-"}

// webSocketProtocolKey is the canonical key of the header that may carry a bearer token as a
// websocket subprotocol (see authn.WebSocketToken).
const webSocketProtocolKey = "Sec-Websocket-Protocol"

// passedHeader returns the header of the request passed on: h itself when it holds no
// credential or identity claim, else a new map without them (and without a websocket
// bearer-token subprotocol). h is never modified. The new map shares its value slices with h,
// as Request.WithContext shares the whole map.
//
// A request with an Authorization header, the common case of a token, is copied in one walk
// over h that skips what is stripped: cheaper than cloning h and deleting from the clone.
func passedHeader(h http.Header) http.Header {
	if _, ok := h["Authorization"]; !ok && !needsStripping(h) {
		return h
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		if isIdentityHeader(k) {
			continue
		}
		if k == webSocketProtocolKey {
			if rest, had := authn.WithoutWebSocketToken(h); had {
				if rest != nil {
					out[k] = rest
				}
				continue
			}
		}
		out[k] = v
	}
	return out
}

// needsStripping reports whether h holds a header passedHeader removes or rewrites.
func needsStripping(h http.Header) bool {
	for k := range h {
		if isIdentityHeader(k) {
			return true
		}
	}
	_, had := authn.WithoutWebSocketToken(h)
	return had
}

// isIdentityHeader matches canonical header keys and, case-insensitively, keys set directly.
func isIdentityHeader(key string) bool {
	if key == "" {
		return false
	}
	switch key[0] | 0x20 { // every stripped name and prefix starts with one of these letters
	case 'a', 'i', 'x':
	default:
		return false
	}
	for _, s := range strippedHeaders {
		if strings.EqualFold(key, s) {
			return true
		}
	}
	for _, p := range strippedPrefixes {
		if len(key) >= len(p) && strings.EqualFold(key[:len(p)], p) {
			return true
		}
	}
	return false
}

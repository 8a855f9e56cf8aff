package serve

import "strings"

// ShellQuote returns s as one POSIX shell word: unchanged when it is not empty and holds only
// letters, digits and _@%+=:,./-, else in single quotes, where an inner single quote closes
// the quotes, is escaped and reopens them. Demos use it for the curl commands they print, so
// that a path with a blank or a header still pastes as one argument.
func ShellQuote(s string) string {
	unsafe := func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("_@%+=:,./-", r))
	}
	if s != "" && strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

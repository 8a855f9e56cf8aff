package main

import (
	"bufio"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// printedCommand is a curl command from the demo's output and the status its comment expects.
type printedCommand struct {
	comment    string
	wantStatus int
	words      []string
}

// parsePrinted returns the "# <status> ..." comment and curl command pairs in out.
func parsePrinted(t *testing.T, out string) []printedCommand {
	t.Helper()
	var cmds []printedCommand
	var pending *printedCommand
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# "):
			code, _, _ := strings.Cut(strings.TrimPrefix(line, "# "), " ")
			n, err := strconv.Atoi(code)
			if err != nil {
				t.Fatalf("comment %q does not start with a status", line)
			}
			pending = &printedCommand{comment: line, wantStatus: n}
		case strings.HasPrefix(line, "curl "):
			if pending == nil {
				t.Fatalf("curl command without an expected status: %q", line)
			}
			pending.words = shellWords(t, line)
			cmds = append(cmds, *pending)
			pending = nil
		}
	}
	return cmds
}

// shellWords splits a command line the way a POSIX shell does for the quoting serve.ShellQuote uses:
// blanks separate words, single quotes quote everything up to the next single quote.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			w.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case strings.ContainsRune("\"\\$`", r):
			t.Fatalf("unexpected shell metacharacter %q in %q", r, line)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", line)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// curlRequest turns the words of a printed curl command into an HTTPS client and request,
// understanding the options the demo prints.
func curlRequest(t *testing.T, words []string) (*http.Client, *http.Request) {
	t.Helper()
	if words[0] != "curl" {
		t.Fatalf("not a curl command: %q", words)
	}
	var c credential
	var caFile, url string
	header := http.Header{}
	for i := 1; i < len(words); i++ {
		arg := func() string {
			i++
			if i == len(words) {
				t.Fatalf("%s has no argument in %q", words[i-1], words)
			}
			return words[i]
		}
		switch w := words[i]; {
		case w == "-sS" || w == "-i":
		case w == "--cacert":
			caFile = arg()
		case w == "--cert":
			c.certFile = arg()
		case w == "--key":
			c.keyFile = arg()
		case w == "-H":
			h := arg()
			if file, ok := strings.CutPrefix(h, "@"); ok {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				h = strings.TrimSpace(string(data))
			}
			name, value, ok := strings.Cut(h, ": ")
			if !ok {
				t.Fatalf("header %q is not 'Name: value'", h)
			}
			header.Add(name, value)
		case strings.HasPrefix(w, "https://") && i == len(words)-1:
			url = w
		default:
			t.Fatalf("unexpected curl argument %q in %q", w, words)
		}
	}
	if caFile == "" || url == "" {
		t.Fatalf("curl command without --cacert or URL: %q", words)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	return httpsClient(t, caFile, c), req
}

// TestPrintedCommands runs the curl commands the demo prints as Go requests and checks each
// gets the status its comment promises, and that together they show 200, 401 and 403.
func TestPrintedCommands(t *testing.T) {
	s := startServer(t, "--demo")
	out := s.stdout.String()
	cmds := parsePrinted(t, out)
	var statuses []int
	for _, c := range cmds {
		statuses = append(statuses, c.wantStatus)
	}
	if want := []int{200, 200, 401, 401, 403}; !slices.Equal(statuses, want) {
		t.Fatalf("printed expected statuses %v, want %v; output:\n%s", statuses, want, out)
	}
	if !strings.Contains(out, s.demo.dir) || !strings.Contains(out, "deleted on exit") {
		t.Errorf("output does not say where the credentials are and that they go away:\n%s", out)
	}
	for _, c := range cmds {
		t.Run(c.comment, func(t *testing.T) {
			if !strings.HasPrefix(c.words[len(c.words)-1], s.url+"/") {
				t.Errorf("command targets %s, want the server at %s", c.words[len(c.words)-1], s.url)
			}
			client, req := curlRequest(t, c.words)
			resp, body := do(t, client, req)
			if resp.StatusCode != c.wantStatus {
				t.Errorf("status = %d, comment promises %d; body %q", resp.StatusCode, c.wantStatus, body)
			}
		})
	}
}

// TestPrintedCommandsNoteChangedSettings checks that the demo warns when an authentication or
// authorization flag changes what the printed statuses assume.
func TestPrintedCommandsNoteChangedSettings(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantNote string
	}{
		{name: "defaults", wantNote: ""},
		{name: "anonymous on", args: []string{"--anonymous-auth=true"}, wantNote: "you changed --anonymous-auth"},
		{name: "always allow", args: []string{"--authorization-mode", "AlwaysAllow"}, wantNote: "you changed --authorization-mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.args...)
			out := s.stdout.String()
			if got := strings.Contains(out, "Note: the expected statuses assume"); got != (tt.wantNote != "") {
				t.Errorf("note printed = %v, want %v:\n%s", got, tt.wantNote != "", out)
			}
			if !strings.Contains(out, tt.wantNote) {
				t.Errorf("output lacks %q:\n%s", tt.wantNote, out)
			}
		})
	}
}

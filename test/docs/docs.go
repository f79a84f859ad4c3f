// Package docs checks eslink's Markdown as GitHub renders it: every relative
// link reaches a file or directory of the repository, every #anchor names a
// heading (or an HTML anchor) of its target page, and every `make <target>`
// a reader is told to run is a target of the Makefile. It reads Markdown
// with a small scanner of its own (fences, code spans, links, headings)
// rather than a full CommonMark parser: the documentation is plain enough,
// and the module takes on no dependency for a check.
package docs

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// Page is one Markdown file, split into the parts the checks read.
type Page struct {
	// Path is the file's path relative to the repository root, with
	// forward slashes, as problems name it.
	Path string
	// Links are the destinations of inline links, images, reference
	// definitions and HTML href/src attributes outside code.
	Links []Link
	// Anchors are the fragment ids GitHub gives the page: one per heading,
	// and those of HTML elements with an id or a name.
	Anchors map[string]bool
	// MakeCommands are the make invocations found in code spans and code
	// blocks.
	MakeCommands []MakeCommand
}

// Link is a link destination and the line it is on.
type Link struct {
	Line int
	Dest string
}

// MakeCommand is one target of a make invocation and the line it is on.
type MakeCommand struct {
	Line   int
	Target string
}

var (
	fenceRE       = regexp.MustCompile("^[ \t]*(```+|~~~+)")
	atxRE         = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$`)
	atxCloseRE    = regexp.MustCompile(`[ \t]+#+$`)
	setextRE      = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	inlineLinkRE  = regexp.MustCompile(`\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`)
	refDefRE      = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)`)
	htmlAttrRE    = regexp.MustCompile(`(?i)\b(href|src)\s*=\s*"([^"]*)"`)
	htmlAnchorRE  = regexp.MustCompile(`(?i)<[a-z][a-z0-9]*\b[^>]*\b(?:id|name)\s*=\s*"([^"]+)"`)
	htmlTagRE     = regexp.MustCompile(`<[^>]+>`)
	mdLinkTextRE  = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	codeSpanRE    = regexp.MustCompile("(`+)(.+?)(`+)")
	schemeRE      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	makeRE        = regexp.MustCompile(`(?:^|[\s;&|(])make((?:[ \t]+[^\s;&|)#]+)+)`)
	targetNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	orderedItemRE = regexp.MustCompile(`^\d+[.)] `)
	ruleRE        = regexp.MustCompile(`^([^\s:=#][^:=#]*?)\s*::?(?:[^=]|$)`)
)

// ReadPage reads the Markdown file at root/rel.
func ReadPage(root, rel string) (*Page, error) {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", rel, err)
	}
	return ParsePage(rel, string(b)), nil
}

// ParsePage splits Markdown text into links, anchors and make commands.
func ParsePage(path, text string) *Page {
	p := &Page{Path: path, Anchors: map[string]bool{}}
	slugs := newSlugger()
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var fence string // the opening fence while inside a fenced block
	prevText := ""   // the previous line, when it may be a setext heading's text
	for i, line := range lines {
		n := i + 1
		if fence != "" {
			if m := fenceRE.FindStringSubmatch(line); len(m) > 1 && m[1] != "" && m[1][0] == fence[0] && len(m[1]) >= len(fence) && strings.TrimSpace(line[strings.Index(line, m[1])+len(m[1]):]) == "" {
				fence = ""
				continue
			}
			p.addMakeCommands(n, line)
			continue
		}
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			fence = m[1]
			prevText = ""
			continue
		}
		if m := setextRE.FindStringSubmatch(line); m != nil && prevText != "" {
			p.Anchors[slugs.slug(headingText(prevText))] = true
			prevText = ""
			continue
		}
		if m := atxRE.FindStringSubmatch(line); m != nil {
			p.Anchors[slugs.slug(headingText(atxCloseRE.ReplaceAllString(m[2], "")))] = true
			prevText = ""
		} else if isParagraphLine(line) {
			prevText = line
		} else {
			prevText = ""
		}
		prose := codeSpanRE.ReplaceAllStringFunc(line, func(span string) string {
			p.addMakeCommands(n, codeSpanRE.FindStringSubmatch(span)[2])
			return strings.Repeat(" ", len(span))
		})
		for _, m := range inlineLinkRE.FindAllStringSubmatch(prose, -1) {
			p.Links = append(p.Links, Link{Line: n, Dest: strings.Trim(m[1], "<>")})
		}
		if m := refDefRE.FindStringSubmatch(prose); m != nil {
			p.Links = append(p.Links, Link{Line: n, Dest: strings.Trim(m[1], "<>")})
		}
		for _, m := range htmlAttrRE.FindAllStringSubmatch(prose, -1) {
			p.Links = append(p.Links, Link{Line: n, Dest: m[2]})
		}
		for _, m := range htmlAnchorRE.FindAllStringSubmatch(prose, -1) {
			p.Anchors[m[1]] = true
		}
	}
	return p
}

// isParagraphLine reports whether a line can be the text of a setext
// heading: prose, not a list item, table row, quote or blank line.
func isParagraphLine(line string) bool {
	t := strings.TrimSpace(line)
	if t == "" || strings.HasPrefix(line, "    ") {
		return false
	}
	for _, prefix := range []string{"- ", "* ", "+ ", "|", ">", "<"} {
		if strings.HasPrefix(t, prefix) {
			return false
		}
	}
	return !orderedItemRE.MatchString(t)
}

func (p *Page) addMakeCommands(line int, code string) {
	for _, m := range makeRE.FindAllStringSubmatch(code, -1) {
		skipNext := false
		for _, tok := range strings.Fields(m[1]) {
			switch {
			case skipNext:
				skipNext = false
			case tok == "-C" || tok == "-f" || tok == "-I" || tok == "-o" || tok == "-W":
				skipNext = true
			case strings.HasPrefix(tok, "-"), strings.Contains(tok, "="):
				// Flags and variable assignments.
			case targetNameRE.MatchString(tok):
				p.MakeCommands = append(p.MakeCommands, MakeCommand{Line: line, Target: tok})
			}
		}
	}
}

// headingText is the text GitHub renders for a heading's Markdown: code
// spans keep their content, links their text, HTML tags go.
func headingText(md string) string {
	s := mdLinkTextRE.ReplaceAllString(md, "$1")
	s = htmlTagRE.ReplaceAllString(s, "")
	return strings.ReplaceAll(s, "`", "")
}

// slugger makes heading anchors as GitHub does (github-slugger): lowercase,
// every character dropped that is not a letter, a digit, a mark, a space,
// '-' or '_', each space turned into '-', and a repeated slug suffixed with
// -1, -2, ... in the order the headings appear.
type slugger struct{ seen map[string]int }

func newSlugger() *slugger { return &slugger{seen: map[string]int{}} }

func (s *slugger) slug(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(text)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	base := b.String()
	slug := base
	for {
		if _, taken := s.seen[slug]; !taken {
			break
		}
		s.seen[base]++
		slug = fmt.Sprintf("%s-%d", base, s.seen[base])
	}
	s.seen[slug] = 0
	return slug
}

// MakeTargets returns the targets a Makefile defines.
func MakeTargets(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the Makefile: %w", err)
	}
	defer func() { _ = f.Close() }() // Read-only.
	targets := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		m := ruleRE.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		for _, t := range strings.Fields(m[1]) {
			if !strings.HasPrefix(t, ".") && !strings.ContainsAny(t, "$%") {
				targets[t] = true
			}
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the Makefile: %w", err)
	}
	return targets, nil
}

// Problems checks pages against the files under root, their anchors, and
// the Makefile's targets. Each problem names the page, the line and what is
// wrong.
func Problems(root string, pages []*Page, targets map[string]bool) ([]string, error) {
	byPath := map[string]*Page{}
	for _, p := range pages {
		byPath[p.Path] = p
	}
	var out []string
	for _, p := range pages {
		for _, l := range p.Links {
			problem, err := checkLink(root, p, l, byPath)
			if err != nil {
				return nil, err
			}
			if problem != "" {
				out = append(out, fmt.Sprintf("%s:%d: %s", p.Path, l.Line, problem))
			}
		}
		for _, c := range p.MakeCommands {
			if !targets[c.Target] {
				out = append(out, fmt.Sprintf("%s:%d: make %s: the Makefile has no target %q", p.Path, c.Line, c.Target, c.Target))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func checkLink(root string, p *Page, l Link, pages map[string]*Page) (string, error) {
	if l.Dest == "" || schemeRE.MatchString(l.Dest) || strings.HasPrefix(l.Dest, "//") {
		// Links to other sites, mail and the like are not followed.
		return "", nil
	}
	pathPart, fragment, _ := strings.Cut(l.Dest, "#")
	if i := strings.IndexByte(pathPart, '?'); i >= 0 {
		pathPart = pathPart[:i]
	}
	target := p.Path
	if pathPart != "" {
		unescaped, err := url.PathUnescape(pathPart)
		if err != nil {
			// A bad escape names no file: the check below reports it.
			unescaped = pathPart
		}
		if strings.HasPrefix(unescaped, "/") {
			return fmt.Sprintf("link %q: use a path relative to %s; an absolute path does not resolve on GitHub", l.Dest, p.Path), nil
		}
		target = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(p.Path), unescaped)))
		if target == ".." || strings.HasPrefix(target, "../") {
			return fmt.Sprintf("link %q leaves the repository", l.Dest), nil
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err != nil {
			if os.IsNotExist(err) {
				return fmt.Sprintf("link %q: %s does not exist", l.Dest, target), nil
			}
			return "", fmt.Errorf("cannot check link %q of %s: %w", l.Dest, p.Path, err)
		}
	}
	if fragment == "" || !strings.HasSuffix(strings.ToLower(target), ".md") {
		return "", nil
	}
	tp := pages[target]
	if tp == nil {
		var err error
		if tp, err = ReadPage(root, target); err != nil {
			return "", err
		}
		pages[target] = tp
	}
	if !tp.Anchors[fragment] {
		return fmt.Sprintf("link %q: %s has no heading with anchor #%s", l.Dest, target, fragment), nil
	}
	return "", nil
}

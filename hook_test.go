package takaro

import (
	"regexp/syntax"
	"testing"
)

func TestStarHeight(t *testing.T) {
	for pattern, want := range map[string]int{
		"player joined":  0,
		`^(\w+) joined$`: 1,
		"a*b+c{2,}":      1,
		"(ab){2,5}":      1,
		"(x+x+)+y":       2,
		"(a|b*)*":        2,
		"((a+)b)*c":      2,
		"(a{2})*":        2,
		"(a?)+":          1,
		"((a*)*)*":       3,
	} {
		re, err := syntax.Parse(pattern, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := starHeight(re); got != want {
			t.Errorf("starHeight(%q) = %d, want %d", pattern, got, want)
		}
	}
}

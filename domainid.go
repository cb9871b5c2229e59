package takaro

import (
	"crypto/rand"
	"math/big"
)

// Word lists for readable domain ids such as "brave-otters-sing". With 64
// words each there are 262,144 ids; a clash is retried by the caller.
var (
	idAdjectives = []string{
		"amber", "bold", "brave", "brisk", "calm", "clever", "cosy", "crisp", "curly", "daring",
		"eager", "early", "fancy", "fast", "fierce", "fluffy", "gentle", "giant", "glad", "golden",
		"grand", "happy", "hardy", "honest", "humble", "jolly", "keen", "kind", "lazy", "little",
		"lively", "lucky", "merry", "mighty", "misty", "modern", "noble", "odd", "plain", "polite",
		"proud", "quick", "quiet", "rapid", "rare", "rustic", "shiny", "silent", "silly", "sleepy",
		"smart", "snowy", "solid", "spicy", "steady", "sunny", "swift", "tall", "tidy", "tiny",
		"vivid", "warm", "wild", "wise",
	}
	idNouns = []string{
		"apples", "badgers", "beans", "bears", "bees", "birds", "boats", "books", "bugs", "cats",
		"clouds", "comets", "cows", "crabs", "cups", "dingos", "dogs", "doors", "ducks", "eagles",
		"eels", "falcons", "ferns", "flowers", "foxes", "frogs", "geese", "goats", "hats", "hawks",
		"hounds", "jars", "kites", "lamps", "lions", "llamas", "maps", "moles", "moons", "mice",
		"newts", "otters", "owls", "pandas", "pears", "pigs", "plums", "ponies", "rabbits", "rivers",
		"robots", "seals", "sheep", "ships", "snails", "socks", "stars", "swans", "tigers", "toads",
		"trains", "trees", "wolves", "yaks",
	}
	idVerbs = []string{
		"act", "bake", "beam", "bow", "build", "call", "camp", "care", "chat", "cheer",
		"clap", "climb", "cook", "count", "cry", "dance", "dig", "dream", "drive", "eat",
		"fly", "fold", "glow", "grin", "grow", "hide", "hop", "hum", "jam", "joke",
		"juggle", "jump", "kneel", "knit", "laugh", "lead", "learn", "listen", "march", "melt",
		"move", "nap", "nod", "paint", "play", "pray", "read", "relax", "rest", "roll",
		"run", "sail", "shine", "shout", "sing", "sip", "sleep", "smile", "swim", "talk",
		"think", "wait", "walk", "wink",
	}
)

// NewDomainID returns a random, readable domain id.
func NewDomainID() string {
	return pick(idAdjectives) + "-" + pick(idNouns) + "-" + pick(idVerbs)
}

func pick(words []string) string {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return words[n.Int64()]
}

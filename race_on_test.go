//go:build race

package authfilter

// raceEnabled is true in a build with the race detector, under which sync.Pool drops items at
// random, so allocation counts are not those of a production build.
const raceEnabled = true

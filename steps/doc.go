// Package steps is ppalm's pipeline: each step of the ALM flow (export,
// unpack, commit, pack, import, teams, share-apps, set-flow-owners,
// activate-flows, ...) is a small type in its own file, and pipelines are
// plain ordered slices of steps in pipelines.go.
//
// One Runner owns what every step shares: skipping, a log group per step,
// timing, wrapping the step's error with its name, and the final report. A
// step knows only its Context: the immutable configuration, the injected
// services, and what earlier steps produced. Steps never print headers or
// exit the process.
package steps

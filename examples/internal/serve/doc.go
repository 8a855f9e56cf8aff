// Package serve holds what the example servers under examples/ share, so that each example's
// code is only its own scenario: an in-memory certificate authority ([CA]) and self-signed
// certificates ([SelfSigned], [ServingCertificate]) for demos that need no cluster, the
// timestamped logr logger ([NewLogger]), an HTTPS server that asks for but does not verify
// client certificates ([NewServer]) and its run loop with graceful shutdown ([Serve]), the
// signal handling of a command's main function ([Main]), and POSIX shell quoting for the curl
// commands a demo prints ([ShellQuote]).
//
// It is for examples only: the certificates it makes are for demos and tests, and its keys
// never leave memory unless the caller writes them out. Everything in it is safe for
// concurrent use, and it keeps no package-level state.
package serve

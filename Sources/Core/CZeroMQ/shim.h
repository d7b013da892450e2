// CZeroMQ: the ZeroMQ C API (Debian's libzmq3-dev, libzmq 4.3). Only Messaging imports it.
// zmq.h lives in /usr/include, so the module map links "zmq" directly instead of going through
// pkg-config, whose Requires.private adds an -isystem flag SwiftPM refuses with a warning.
#pragma once
#include <zmq.h>
#include <errno.h>

/// errno of the calling thread (Swift cannot read the errno macro portably).
static inline int czmq_errno(void) { return zmq_errno(); }

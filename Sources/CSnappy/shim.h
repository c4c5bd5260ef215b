// libsnappy's C API (Debian's libsnappy-dev): Loki's protobuf push body is snappy *block* format.
#include <snappy-c.h>

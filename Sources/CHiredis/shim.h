// hiredis (Debian libhiredis-dev) for StarlingRedis. Only its synchronous API is used, with
// redisCommandArgv / redisAppendCommandArgv: the printf-style redisCommand is C-variadic and
// cannot be called from Swift, and argv commands are binary safe.
#include <hiredis/hiredis.h>

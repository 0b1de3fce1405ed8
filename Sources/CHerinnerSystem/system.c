#define _GNU_SOURCE
#include <unistd.h>
#include "herinner_system.h"

int herinner_syncfs(int fd) { return syncfs(fd); }

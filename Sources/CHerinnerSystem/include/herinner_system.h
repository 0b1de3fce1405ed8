#ifndef HERINNER_SYSTEM_H
#define HERINNER_SYSTEM_H
/// Flushes the whole file system that holds `fd` (syncfs(2)): one flush for a group of
/// archive writes instead of one fsync per file. Returns 0 on success.
int herinner_syncfs(int fd);
#endif

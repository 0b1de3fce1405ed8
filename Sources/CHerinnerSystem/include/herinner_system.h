#ifndef HERINNER_SYSTEM_H
#define HERINNER_SYSTEM_H
/// Opens `path` (relative) for reading strictly beneath the directory `dirfd`: openat2(2) with
/// RESOLVE_BENEATH, so neither `..` nor a symlink can lead outside it, checked by the kernel in
/// the same call that opens the file (no window between a check and the open). Returns the fd,
/// or -1 with errno set; errno ENOSYS means the kernel has no openat2 (before Linux 5.6) and
/// EXDEV that the path leaves the directory or goes through an absolute symlink.
int herinner_open_beneath(int dirfd, const char *path);

/// Starts writing the file's dirty pages back without waiting (sync_file_range(2) with
/// SYNC_FILE_RANGE_WRITE): a head start only, never durability (that is fdatasync's).
/// Returns 0 on success.
int herinner_start_writeback(int fd);

/// O_DIRECT, which Glibc only defines with _GNU_SOURCE.
int herinner_o_direct(void);
#endif

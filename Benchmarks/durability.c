// The archive's per-group durability, measured alone: N files of SIZE bytes written as the
// archive writes them (whole blocks with O_DIRECT, the tail through the page cache), made
// durable every GROUP files by one of several methods, optionally while another program keeps
// dirtying the same file system (which syncfs(2) must flush too, fsync(2) of our files not).
//
// Usage: durability DIR METHOD [COUNT [SIZE [GROUP [DIRTY_MB_PER_S]]]]
// METHOD: none | syncfs | fsync | fdatasync | sfr (sync_file_range(2) WRITE after each file,
//         then fdatasync each at the group's end) | psfr (the same, the fdatasyncs each on
//         its own thread at once, so the block layer can merge their cache flushes) |
//         odsync (O_DSYNC writes, nothing at the end); "b-" before a method (b-syncfs, …):
//         the whole file through the page cache instead of O_DIRECT
// Prints: method=… files=… seconds=… files_per_second=… flush_ms_median=… flush_ms_max=…
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "durability: %s: %s\n", what, strerror(errno));
    exit(2);
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void *datasync(void *fd) {
  if (fdatasync(*(int *)fd) != 0) return (void *)1;
  return NULL;
}

// Another program's writes: buffered, never synced, at about `mb` MB/s, until killed.
static pid_t dirtier(const char *dir, int mb) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  char path[4096];
  snprintf(path, sizeof path, "%s/other-program.dat", dir);
  static char chunk[1 << 20];
  memset(chunk, 'x', sizeof chunk);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) _exit(1);
  long n = 0;
  double start = now();
  for (;;) {
    if (write(fd, chunk, sizeof chunk) < 0) _exit(1);
    // Wrap at 512 MB so the image does not fill up; the pages are dirtied again.
    if (++n % 512 == 0) lseek(fd, 0, SEEK_SET);
    double ahead = n / (double)mb - (now() - start);
    if (ahead > 0) usleep((useconds_t)(ahead * 1e6));
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: durability DIR METHOD [COUNT [SIZE [GROUP [DIRTY_MB_PER_S]]]]\n");
    return 2;
  }
  const char *dir = argv[1], *method = argv[2];
  int buffered = strncmp(method, "b-", 2) == 0;
  if (buffered) method += 2;
  int count = argc > 3 ? atoi(argv[3]) : 2000;
  int size = argc > 4 ? atoi(argv[4]) : 140000;
  int group = argc > 5 ? atoi(argv[5]) : 16;
  int dirty = argc > 6 ? atoi(argv[6]) : 0;
  int m_none = !strcmp(method, "none"), m_syncfs = !strcmp(method, "syncfs");
  int m_fsync = !strcmp(method, "fsync"), m_fdatasync = !strcmp(method, "fdatasync");
  int m_sfr = !strcmp(method, "sfr"), m_psfr = !strcmp(method, "psfr"), m_odsync = !strcmp(method, "odsync");
  if (!(m_none || m_syncfs || m_fsync || m_fdatasync || m_sfr || m_psfr || m_odsync) || group < 1) {
    fprintf(stderr, "durability: unknown method %s\n", method);
    return 2;
  }
  char folder[4096];
  snprintf(folder, sizeof folder, "%s/night-%s%s", dir, buffered ? "b-" : "", method);
  check(mkdir(folder, 0755) == 0 || errno == EEXIST, "mkdir");
  int dirfd = open(folder, O_RDONLY | O_DIRECTORY);
  check(dirfd >= 0, "open folder");

  void *aligned;
  check(posix_memalign(&aligned, 4096, (size_t)size + 4096) == 0, "posix_memalign");
  memset(aligned, 'm', (size_t)size);
  int whole = buffered ? 0 : size / 4096 * 4096;

  pid_t other = dirty > 0 ? dirtier(dir, dirty) : 0;
  if (other) sleep(2);  // let its dirty pages build up

  int *pending = calloc((size_t)group, sizeof(int));
  int groups = (count + group - 1) / group, g = 0, npending = 0;
  double *flushes = calloc((size_t)groups, sizeof(double));
  double start = now();
  for (int i = 0; i < count; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%06d.eml", folder, i);
    int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (m_odsync ? O_DSYNC : 0);
    int fd = open(path, flags | (buffered ? 0 : O_DIRECT), 0644);
    check(fd >= 0, "open");
    if (whole > 0) check(pwrite(fd, aligned, (size_t)whole, 0) == whole, "pwrite direct");
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
    check(pwrite(fd, (char *)aligned + whole, (size_t)(size - whole), whole) == size - whole,
          "pwrite tail");
    if (m_sfr || m_psfr) check(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0, "sync_file_range");
    pending[npending++] = fd;
    if (npending == group || i == count - 1) {
      double t = now();
      if (m_syncfs) check(syncfs(dirfd) == 0, "syncfs");
      if (m_psfr) {
        pthread_t threads[npending];
        for (int k = 0; k < npending; k++)
          check(pthread_create(&threads[k], NULL, datasync, &pending[k]) == 0, "thread");
        for (int k = 0; k < npending; k++) {
          void *failed;
          pthread_join(threads[k], &failed);
          check(failed == NULL, "fdatasync");
        }
      }
      for (int k = 0; k < npending; k++) {
        if (m_fsync) check(fsync(pending[k]) == 0, "fsync");
        if (m_fdatasync || m_sfr) check(fdatasync(pending[k]) == 0, "fdatasync");
        close(pending[k]);
      }
      // The new names: the folder's own entries (not needed after syncfs).
      if (m_fsync || m_fdatasync || m_sfr || m_psfr || m_odsync) check(fsync(dirfd) == 0, "fsync dir");
      flushes[g++] = (now() - t) * 1000;
      npending = 0;
    }
  }
  double seconds = now() - start;
  if (other) {
    kill(other, SIGKILL);
    waitpid(other, NULL, 0);
  }
  qsort(flushes, (size_t)g, sizeof(double), cmp);
  printf("method=%s%s files=%d size=%d group=%d dirty_mb_s=%d seconds=%.3f files_per_second=%.0f "
         "flush_ms_median=%.2f flush_ms_max=%.2f\n",
         buffered ? "b-" : "", method, count, size, group, dirty, seconds, count / seconds, flushes[g / 2],
         flushes[g - 1]);
  return 0;
}

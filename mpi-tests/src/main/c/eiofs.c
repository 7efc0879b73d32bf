/*
 * eiofs: a test fixture, not part of crmpi. A FUSE file system that passes
 * every call through to a backing directory, except that reads or writes of
 * chosen files fail with a real EIO from the kernel, the way a failing disk
 * or a broken network file system answers.
 *
 *   eiofs BACKING MOUNTPOINT [FUSE OPTIONS...]
 *
 * The rules are in BACKING/.eio (read again whenever it changes), one per
 * line:  "read SUBSTRING" or "write SUBSTRING". A read (write) of a file
 * whose path below the mount point contains SUBSTRING fails with EIO. No
 * file, or an empty one, means no failure. Every call is sent to this
 * process (direct I/O), so no page cache answers a read that should fail.
 *
 * Run it as root with -o allow_other,default_permissions: the kernel checks
 * permissions, and what a caller creates is given to the caller.
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_RULES 16

static char backing[PATH_MAX];
static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct timespec rules_mtime;
static int rule_count;
static int rule_write[MAX_RULES];
static char rule_text[MAX_RULES][256];

static int full(char *out, const char *path) {
  int n = snprintf(out, PATH_MAX, "%s%s", backing, path);
  return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static void load_rules(void) {
  char file[PATH_MAX + 8];
  struct stat st;
  snprintf(file, sizeof file, "%s/.eio", backing);
  if (stat(file, &st) != 0) {
    rule_count = 0;
    rules_mtime.tv_sec = 0;
    rules_mtime.tv_nsec = 0;
    return;
  }
  if (st.st_mtim.tv_sec == rules_mtime.tv_sec && st.st_mtim.tv_nsec == rules_mtime.tv_nsec) {
    return;
  }
  rules_mtime = st.st_mtim;
  rule_count = 0;
  FILE *f = fopen(file, "r");
  if (f == NULL) {
    return;
  }
  char line[300];
  while (rule_count < MAX_RULES && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    int write = strncmp(line, "write ", 6) == 0;
    if (!write && strncmp(line, "read ", 5) != 0) {
      continue;
    }
    snprintf(rule_text[rule_count], sizeof rule_text[0], "%s", line + (write ? 6 : 5));
    if (rule_text[rule_count][0] != '\0') {
      rule_write[rule_count++] = write;
    }
  }
  fclose(f);
}

/* Whether a read (write=0) or write (write=1) of path must fail. */
static int fails(const char *path, int write) {
  int hit = 0;
  pthread_mutex_lock(&rules_lock);
  load_rules();
  for (int i = 0; i < rule_count && !hit; i++) {
    hit = rule_write[i] == write && strstr(path, rule_text[i]) != NULL;
  }
  pthread_mutex_unlock(&rules_lock);
  if (hit) {
    fprintf(stderr, "eiofs: EIO for the %s of %s\n", write ? "write" : "read", path);
  }
  return hit;
}

/* What a caller creates is the caller's. */
static int give_to_caller(const char *p) {
  struct fuse_context *c = fuse_get_context();
  return lchown(p, c->uid, c->gid) == 0 ? 0 : -errno;
}

#define FULL(var, path)        \
  char var[PATH_MAX];          \
  do {                         \
    int e_ = full(var, path);  \
    if (e_ != 0) return e_;    \
  } while (0)

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void) conn;
  cfg->use_ino = 1;
  cfg->direct_io = 1;
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  return NULL;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  if (fi != NULL) {
    return fstat((int) fi->fh, st) == 0 ? 0 : -errno;
  }
  FULL(p, path);
  return lstat(p, st) == 0 ? 0 : -errno;
}

static int fs_readlink(const char *path, char *buf, size_t size) {
  FULL(p, path);
  ssize_t n = readlink(p, buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
    enum fuse_readdir_flags flags) {
  (void) off; (void) fi; (void) flags;
  FULL(p, path);
  DIR *d = opendir(p);
  if (d == NULL) return -errno;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_ino = e->d_ino;
    st.st_mode = (mode_t) DTTOIF(e->d_type);
    if (fill(buf, e->d_name, &st, 0, 0)) break;
  }
  closedir(d);
  return 0;
}

static int fs_mknod(const char *path, mode_t mode, dev_t rdev) {
  FULL(p, path);
  if (mknod(p, mode, rdev) != 0) return -errno;
  return give_to_caller(p);
}

static int fs_mkdir(const char *path, mode_t mode) {
  FULL(p, path);
  if (mkdir(p, mode) != 0) return -errno;
  return give_to_caller(p);
}

static int fs_unlink(const char *path) {
  FULL(p, path);
  return unlink(p) == 0 ? 0 : -errno;
}

static int fs_rmdir(const char *path) {
  FULL(p, path);
  return rmdir(p) == 0 ? 0 : -errno;
}

static int fs_symlink(const char *target, const char *path) {
  FULL(p, path);
  if (symlink(target, p) != 0) return -errno;
  return give_to_caller(p);
}

static int fs_rename(const char *from, const char *to, unsigned int flags) {
  FULL(a, from);
  FULL(b, to);
  return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags) == 0 ? 0 : -errno;
}

static int fs_link(const char *from, const char *to) {
  FULL(a, from);
  FULL(b, to);
  return link(a, b) == 0 ? 0 : -errno;
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  if (fi != NULL) return fchmod((int) fi->fh, mode) == 0 ? 0 : -errno;
  FULL(p, path);
  return chmod(p, mode) == 0 ? 0 : -errno;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  if (fi != NULL) return fchown((int) fi->fh, uid, gid) == 0 ? 0 : -errno;
  FULL(p, path);
  return lchown(p, uid, gid) == 0 ? 0 : -errno;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  if (fi != NULL) return ftruncate((int) fi->fh, size) == 0 ? 0 : -errno;
  FULL(p, path);
  return truncate(p, size) == 0 ? 0 : -errno;
}

static int fs_utimens(const char *path, const struct timespec ts[2], struct fuse_file_info *fi) {
  if (fi != NULL) return futimens((int) fi->fh, ts) == 0 ? 0 : -errno;
  FULL(p, path);
  return utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int fs_open(const char *path, struct fuse_file_info *fi) {
  FULL(p, path);
  int fd = open(p, fi->flags & ~O_NOFOLLOW);
  if (fd < 0) return -errno;
  fi->fh = (uint64_t) fd;
  return 0;
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  FULL(p, path);
  int fd = open(p, fi->flags | O_CREAT, mode);
  if (fd < 0) return -errno;
  struct fuse_context *c = fuse_get_context();
  if (fchown(fd, c->uid, c->gid) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  fi->fh = (uint64_t) fd;
  return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  if (fails(path, 0)) return -EIO;
  ssize_t n = pread((int) fi->fh, buf, size, off);
  return n < 0 ? -errno : (int) n;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  if (fails(path, 1)) return -EIO;
  ssize_t n = pwrite((int) fi->fh, buf, size, off);
  return n < 0 ? -errno : (int) n;
}

static int fs_statfs(const char *path, struct statvfs *st) {
  FULL(p, path);
  return statvfs(p, st) == 0 ? 0 : -errno;
}

static int fs_release(const char *path, struct fuse_file_info *fi) {
  (void) path;
  close((int) fi->fh);
  return 0;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void) path;
  int r = datasync ? fdatasync((int) fi->fh) : fsync((int) fi->fh);
  return r == 0 ? 0 : -errno;
}

static int fs_access(const char *path, int mask) {
  FULL(p, path);
  return access(p, mask) == 0 ? 0 : -errno;
}

static const struct fuse_operations ops = {
  .init = fs_init,
  .getattr = fs_getattr,
  .readlink = fs_readlink,
  .readdir = fs_readdir,
  .mknod = fs_mknod,
  .mkdir = fs_mkdir,
  .unlink = fs_unlink,
  .rmdir = fs_rmdir,
  .symlink = fs_symlink,
  .rename = fs_rename,
  .link = fs_link,
  .chmod = fs_chmod,
  .chown = fs_chown,
  .truncate = fs_truncate,
  .utimens = fs_utimens,
  .open = fs_open,
  .create = fs_create,
  .read = fs_read,
  .write = fs_write,
  .statfs = fs_statfs,
  .release = fs_release,
  .fsync = fs_fsync,
  .access = fs_access,
};

int main(int argc, char *argv[]) {
  if (argc < 3) {
    fprintf(stderr, "usage: eiofs BACKING MOUNTPOINT [FUSE OPTIONS...]\n");
    return 2;
  }
  if (realpath(argv[1], backing) == NULL) {
    perror(argv[1]);
    return 2;
  }
  /* fuse_main sees: eiofs MOUNTPOINT [OPTIONS...] */
  argv[1] = argv[0];
  return fuse_main(argc - 1, argv + 1, &ops, NULL);
}

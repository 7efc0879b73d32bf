/*
 * The application-assisted ("app") engine's part of libcrmpi: the per-rank
 * state directory, and the drained messages saved there at a checkpoint
 * and buffered again when a fresh job restarts from it.
 *
 * crmpi-messages holds, per message: the communicator's gid (NUL-ended),
 * then source, tag and length as int32/int32/uint64, then the payload.
 * Messages of communicators the restarted program has not created yet wait
 * until it creates them (gids follow creation order, so they match).
 */
#define _GNU_SOURCE
#include <limits.h>
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MESSAGES "crmpi-messages"

struct pending_msg {
	struct pending_msg *next;
	char gid[CRMPI_GID_LEN];
	int src, tag;
	size_t len;
	unsigned char data[];
};

static struct pending_msg *pending_head;

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];

			buf[i] = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			buf[i] = c;
		}
	}
	return 0;
}

/* The agent's base directory for this epoch: ours is BASE/rank-N. */
void crmpi_app_set_base(const char *base)
{
	if (!base || !*base || !strcmp(base, "-")) {
		crmpi_S.state_path[0] = '\0';
		return;
	}
	snprintf(crmpi_S.state_path, sizeof(crmpi_S.state_path), "%.4000s/rank-%d", base, crmpi_S.world_rank);
	if (mkdir_p(crmpi_S.state_path) < 0)
		crmpi_S.state_path[0] = '\0';
}

/* Writes the drained messages next to the callbacks' state; 0 or -errno. */
int crmpi_app_save_messages(void)
{
	char path[4200];
	struct crmpi_msg *m;
	FILE *f;

	if (!crmpi_S.state_path[0])
		return 0;
	snprintf(path, sizeof(path), "%s/" MESSAGES, crmpi_S.state_path);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	for (m = crmpi_S.buffered.head; m; m = m->next) {
		int32_t src = m->src, tag = m->tag;
		uint64_t len = m->len;
		const char *gid = crmpi_S.comms[m->comm].gid;

		fwrite(gid, 1, strlen(gid) + 1, f);
		fwrite(&src, sizeof(src), 1, f);
		fwrite(&tag, sizeof(tag), 1, f);
		fwrite(&len, sizeof(len), 1, f);
		fwrite(m->data, 1, m->len, f);
	}
	if (fflush(f) || fsync(fileno(f))) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -EIO : 0;
}

/* Moves saved messages of communicator idx (just created) into the buffer. */
void crmpi_app_adopt(int idx)
{
	struct pending_msg **p = &pending_head;

	while (*p) {
		struct pending_msg *m = *p;

		if (!strcmp(m->gid, crmpi_S.comms[idx].gid)) {
			msgbuf_push(&crmpi_S.buffered, idx, m->src, m->tag, m->data, m->len);
			*p = m->next;
			free(m);
		} else {
			p = &m->next;
		}
	}
}

/* At MPI_Init of a job restarted by the app engine: state path and saved messages. */
void crmpi_app_restart(const char *dir, long epoch)
{
	char path[4200];
	struct pending_msg **tail = &pending_head;
	long size, pos;
	FILE *f;

	snprintf(crmpi_S.state_path, sizeof(crmpi_S.state_path), "%.4000s/rank-%d", dir, crmpi_S.world_rank);
	crmpi_S.restarted_epoch = epoch;
	crmpi_S.done_epoch = epoch;
	snprintf(path, sizeof(path), "%s/" MESSAGES, crmpi_S.state_path);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return;
	}
	for (;;) {
		char gid[CRMPI_GID_LEN];
		int32_t src, tag;
		uint64_t len;
		struct pending_msg *m;
		int c, i = 0;

		while ((c = fgetc(f)) > 0 && i < CRMPI_GID_LEN - 1)
			gid[i++] = (char)c;
		if (c != 0)
			break;
		gid[i] = '\0';
		if (fread(&src, sizeof(src), 1, f) != 1 || fread(&tag, sizeof(tag), 1, f) != 1 ||
		    fread(&len, sizeof(len), 1, f) != 1)
			break;
		/* The length comes from a file: never trust it beyond what the file still holds. */
		pos = ftell(f);
		if (pos < 0 || len > (uint64_t)INT_MAX || len > (uint64_t)(size - pos)) {
			fprintf(stderr, "libcrmpi: %s is damaged (a message of %llu bytes at offset %ld of %ld);"
				" the saved messages after it are ignored\n", path, (unsigned long long)len, pos, size);
			break;
		}
		m = malloc(sizeof(*m) + len);
		if (!m)
			break;
		memcpy(m->gid, gid, sizeof(gid));
		m->src = src;
		m->tag = tag;
		m->len = len;
		m->next = NULL;
		if (fread(m->data, 1, len, f) != len) {
			free(m);
			break;
		}
		*tail = m;
		tail = &m->next;
	}
	fclose(f);
}

long crmpi_restarted(void)
{
	return crmpi_S.present ? crmpi_S.restarted_epoch : 0;
}

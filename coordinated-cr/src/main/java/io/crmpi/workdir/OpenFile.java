package io.crmpi.workdir;

import java.nio.file.Path;

/**
 * A regular file in the working directory that a process of the node tree
 * holds open for writing (or has mapped shared and writable).
 *
 * @param path the file's path as /proc shows it (absolute)
 * @param key the file the descriptor leads to
 * @param append whether the descriptor only appends (O_APPEND)
 */
record OpenFile(Path path, FileKey key, boolean append) {}

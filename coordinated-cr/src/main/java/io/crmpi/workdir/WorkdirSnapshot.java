package io.crmpi.workdir;

import io.crmpi.store.FileDigest;
import io.crmpi.store.WorkdirRecord;
import java.util.List;

/**
 * What one node captured of the working directory at a checkpoint.
 *
 * @param copies the files copied into the epoch's snapshot directory
 * @param record the state of every file the node tree wrote
 */
public record WorkdirSnapshot(List<FileDigest> copies, WorkdirRecord record) {
  public WorkdirSnapshot {
    copies = List.copyOf(copies);
  }
}

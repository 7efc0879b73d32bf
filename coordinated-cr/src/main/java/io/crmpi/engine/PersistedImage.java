package io.crmpi.engine;

import io.crmpi.store.FileDigest;
import java.util.List;
import java.util.Map;

/**
 * A node's image made durable: every file (with its digest once sealed),
 * and the attributes the manifest records for it.
 */
public record PersistedImage(List<FileDigest> files, Map<String, String> attributes) {
  public PersistedImage {
    files = List.copyOf(files);
    attributes = Map.copyOf(attributes);
  }

  /** Whether every file's digest is known (crmpid's images: only after their seal). */
  public boolean sealed() {
    return files.stream().allMatch(FileDigest::digested);
  }
}

package io.crmpi.engine;

import io.crmpi.store.FileDigest;
import java.util.List;
import java.util.Map;

/**
 * A node's image made durable: the digest of every file, and the
 * attributes the manifest records for it.
 */
public record PersistedImage(List<FileDigest> files, Map<String, String> attributes) {
  public PersistedImage {
    files = List.copyOf(files);
    attributes = Map.copyOf(attributes);
  }
}

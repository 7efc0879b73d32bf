package io.crmpi.protocol;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where a node being restored can fetch its part of an epoch when its
 * node-local copy is gone (its node was lost): the partner ports of the
 * job's other nodes, the one that should hold the copy first. The part is
 * fetched into localEpochDir/nodes/NODE and restored from there.
 *
 * @param endpoints host:port of the partner ports to ask, in order
 * @param localEpochDir the epoch's directory at the node-local level
 */
public record PartnerSource(List<String> endpoints, Path localEpochDir) {
  public PartnerSource {
    endpoints = List.copyOf(endpoints);
    Objects.requireNonNull(localEpochDir, "localEpochDir");
    if (!localEpochDir.isAbsolute()) {
      throw new IllegalArgumentException("localEpochDir must be absolute: " + localEpochDir);
    }
  }
}

package io.crmpi.local;

import java.io.IOException;

/**
 * A node of the job was lost while crmpi restored or started the job: no
 * epoch is at fault, so none is skipped; the job must be requeued onto
 * healthy nodes instead.
 */
final class SlotLostException extends IOException {
  private final String node;

  SlotLostException(String node, String detail) {
    super("node " + node + " was lost: " + detail);
    this.node = node;
  }

  String node() {
    return node;
  }
}

package io.crmpi.coordinator;

import io.crmpi.store.Manifest;
import java.util.Objects;

/** How one request for a global checkpoint ended. */
public sealed interface CheckpointOutcome {
  /** The epoch is committed: its manifest is durable. */
  record Committed(Manifest manifest) implements CheckpointOutcome {
    public Committed {
      Objects.requireNonNull(manifest, "manifest");
    }
  }

  /**
   * The epoch was rolled back: the ranks run on and the previous committed
   * epoch is still the latest.
   *
   * @param epoch the aborted epoch, or 0 when none could be begun
   */
  record Aborted(long epoch, AbortReason reason, String detail) implements CheckpointOutcome {
    public Aborted {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(detail, "detail");
    }

    public String describe() {
      return "epoch " + epoch + " aborted: " + reason + " (" + reason.message() + "): " + detail;
    }
  }

  /** No epoch was begun, e.g. because another checkpoint was running. */
  record Skipped(String why) implements CheckpointOutcome {
    public Skipped {
      Objects.requireNonNull(why, "why");
    }
  }
}

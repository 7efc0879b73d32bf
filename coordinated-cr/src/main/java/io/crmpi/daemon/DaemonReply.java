package io.crmpi.daemon;

import io.crmpi.engine.TreeExit;
import io.crmpi.store.FileDigest;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What crmpid answers; on a tree's lease, also the tree's output and its exit. */
public sealed interface DaemonReply {
  /** The tree runs (launched or restored); its init has this host pid. */
  record Started(long initPid) implements DaemonReply {}

  /** The request was carried out. */
  record Done() implements DaemonReply {}

  /** The tree is dumped; these are the attributes a restore needs. */
  record Dumped(Map<String, String> attributes) implements DaemonReply {
    public Dumped {
      attributes = Map.copyOf(attributes);
    }
  }

  /** The dump is durable: its files, with their sizes and no digests yet (the seal brings them). */
  record Persisted(List<FileDigest> files, Map<String, String> attributes) implements DaemonReply {
    public Persisted {
      files = List.copyOf(files);
      attributes = Map.copyOf(attributes);
    }
  }

  /** The image is sealed: every file's digest, the attributes with the seal; the files now belong to the owner. */
  record Sealed(List<FileDigest> files, Map<String, String> attributes) implements DaemonReply {
    public Sealed {
      files = List.copyOf(files);
      attributes = Map.copyOf(attributes);
      for (FileDigest f : files) {
        if (!f.digested()) {
          throw new IllegalArgumentException("sealed file " + f.path() + " has no sha256");
        }
      }
      if (!attributes.containsKey(ImageSeal.ATTRIBUTE)) {
        throw new IllegalArgumentException("a sealed image without its " + ImageSeal.ATTRIBUTE);
      }
    }
  }

  /**
   * How far a dump or a restore's staging has come, sent before its answer:
   * bytes done of total (0 when not known).
   */
  record Progress(long bytes, long total) implements DaemonReply {
    public Progress {
      if (bytes < 0 || total < 0) {
        throw new IllegalArgumentException("progress must not be negative: " + bytes + " of " + total);
      }
    }
  }

  /** The tree's number of processes. */
  record Count(int processes) implements DaemonReply {}

  /** Output of the tree: stream 1 is stdout, 2 is stderr. */
  record Output(int stream, byte[] data) implements DaemonReply {
    public Output {
      if (stream != 1 && stream != 2) {
        throw new IllegalArgumentException("stream must be 1 (stdout) or 2 (stderr): " + stream);
      }
      Objects.requireNonNull(data, "data");
    }
  }

  /** The tree is gone; the last message of a lease. */
  record Exited(TreeExit exit) implements DaemonReply {
    public Exited {
      Objects.requireNonNull(exit, "exit");
    }
  }

  /** The request was refused or failed; message says why and what to do. */
  record Refused(String message) implements DaemonReply {
    public Refused {
      Objects.requireNonNull(message, "message");
    }
  }
}

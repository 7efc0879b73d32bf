package io.crmpi.agent;

import io.crmpi.engine.Engine;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.NodeTree;
import io.crmpi.engine.PersistedImage;
import io.crmpi.fault.FaultPoint;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * A node agent's Seal and Reseal rounds: the newest image its persist made
 * durable, sealed by the engine (crmpid digests and seals it) after the
 * epoch's commit, or as it is when the persist digested it already. Used
 * on the agent's thread only.
 */
final class ImageSealing {
  private final LaunchSpec spec;
  private final Engine engine;
  private final Faults faults;
  private final LongSupplier nanoTime;
  private Persisted newest;

  private record Persisted(long epoch, NodeTree tree, Path imageDir, PersistedImage persisted, NodeImage image) {}

  ImageSealing(LaunchSpec spec, Engine engine, Faults faults, LongSupplier nanoTime) {
    this.spec = spec;
    this.engine = engine;
    this.faults = faults;
    this.nanoTime = nanoTime;
  }

  /**
   * Keeps the image a persist made durable for its seal. An image sealed
   * already leaves the page cache now; one to seal stays there, since the
   * seal reads it once more.
   */
  void persisted(long epoch, NodeTree tree, Path imageDir, PersistedImage persisted, NodeImage image) {
    if (persisted.sealed()) {
      dropFromPageCache(imageDir, persisted.files());
    }
    newest = new Persisted(epoch, tree, imageDir, persisted, image);
  }

  /** The persisted image of s's epoch, sealed. */
  AgentReply seal(AgentRequest.Seal s) throws IOException {
    long start = nanoTime.getAsLong();
    Persisted p = newest;
    if (p == null || p.epoch() != s.epoch()) {
      throw new IOException("node " + spec.node() + " has no persisted image of epoch " + s.epoch() + " to seal");
    }
    newest = null;
    faults.check(FaultPoint.SEAL, s.epoch(), p.tree()::initPid);
    PersistedImage sealed = engine.seal(p.tree(), spec, p.imageDir(), s.epoch(), p.persisted());
    dropFromPageCache(p.imageDir(), requireSealed(sealed, s.epoch()).files());
    return reply(s.epoch(), p.image(), sealed, start);
  }

  /** An epoch the crmpi before this one committed and did not seal: crmpid seals it if it still holds it. */
  AgentReply reseal(AgentRequest.Reseal r) throws IOException {
    long start = nanoTime.getAsLong();
    if (!r.image().node().equals(spec.node())) {
      throw new IOException("node " + spec.node() + " was sent the image of node " + r.image().node() + " to seal");
    }
    PersistedImage sealed = engine.seal(null, spec, null, r.epoch(),
        new PersistedImage(r.image().files(), r.image().attributes()));
    return reply(r.epoch(), r.image(), requireSealed(sealed, r.epoch()), start);
  }

  private PersistedImage requireSealed(PersistedImage sealed, long epoch) throws IOException {
    if (!sealed.sealed()) {
      throw new IOException("node " + spec.node() + ": the " + engine.name() + " engine did not seal epoch " + epoch
          + " (a file without its digest)");
    }
    return sealed;
  }

  private AgentReply reply(long epoch, NodeImage image, PersistedImage sealed, long start) {
    return new AgentReply.Sealed(spec.node(), epoch, image.sealedAs(sealed.files(), sealed.attributes()),
        (nanoTime.getAsLong() - start) / 1_000_000);
  }

  /** The flush and the partner copy read the files from the disk (with read-ahead) when their turn comes. */
  private static void dropFromPageCache(Path imageDir, List<FileDigest> files) {
    for (FileDigest f : files) {
      io.crmpi.nativeio.Posix.dropFromPageCache(imageDir.resolve(f.path()));
    }
  }
}

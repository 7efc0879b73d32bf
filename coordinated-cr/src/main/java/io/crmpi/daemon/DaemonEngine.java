package io.crmpi.daemon;

import io.crmpi.wire.BadMessage;
import io.crmpi.engine.Engine;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.NodeTree;
import io.crmpi.engine.PersistedImage;
import io.crmpi.engine.ProgressListener;
import io.crmpi.engine.TreeStarter;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The criu engine of an ordinary user's job: every privileged step (start,
 * freeze, dump, seal, restore, kill) is a request to this node's crmpid,
 * which runs the tree as this user. What the user may do alone (create the
 * session directory, read the sealed images it then owns) happens here.
 * It also starts the trees of the app engine for such a job.
 */
public final class DaemonEngine implements Engine, TreeStarter {
  private final DaemonClient client;

  private static final java.util.concurrent.atomic.AtomicBoolean WARM = new java.util.concurrent.atomic.AtomicBoolean();

  public DaemonEngine(DaemonClient client) {
    this.client = client;
    if (WARM.compareAndSet(false, true)) {
      // The checkpoint's requests run while the ranks stand frozen: compile their codec before the first one.
      Thread t = new Thread(DaemonWire::warmUp, "crmpid-codec-warm-up");
      t.setDaemon(true);
      t.setPriority(Thread.MIN_PRIORITY);
      t.start();
    }
  }

  @Override
  public String name() {
    return "criu";
  }

  /** crmpid digests every image file as it stages it for the restore, against the sealed digests. */
  @Override
  public boolean verifiesImages() {
    return true;
  }

  @Override
  public NodeTree launch(LaunchSpec spec) throws IOException {
    Files.createDirectories(spec.sessionDir());
    // The tree sees this host's name, as a tree this process started would (crmpid may see another name).
    return lease(new DaemonRequest.Launch(spec.onThisHost()));
  }

  @Override
  public NodeTree restore(LaunchSpec spec, Path imageDir, NodeImage image, long epoch) throws IOException {
    return restore(spec, imageDir, image, epoch, ProgressListener.NONE);
  }

  /** crmpid reports the bytes it has staged (read and checked) of the image's total. */
  @Override
  public NodeTree restore(LaunchSpec spec, Path imageDir, NodeImage image, long epoch, ProgressListener progress)
      throws IOException {
    Files.createDirectories(spec.sessionDir());
    return lease(new DaemonRequest.Restore(spec, imageDir, epoch, image.files(), image.attributes()), progress);
  }

  private NodeTree lease(DaemonRequest request) throws IOException {
    return lease(request, ProgressListener.NONE);
  }

  private NodeTree lease(DaemonRequest request, ProgressListener progress) throws IOException {
    SocketChannel ch = client.open(request);
    try {
      InputStream in = ChannelStreams.in(ch);
      DaemonReply first = DaemonClient.answer(in, request, progress);
      if (!(first instanceof DaemonReply.Started started)) {
        throw new IOException("crmpid answered " + request.getClass().getSimpleName() + " with "
            + first.getClass().getSimpleName());
      }
      return new DaemonTree(client, request.tree(), ch, in, started.initPid());
    } catch (BadMessage e) {
      ch.close();
      throw new IOException("crmpid sent a bad reply: " + e.getMessage());
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public void freeze(NodeTree tree) throws IOException {
    client.call(new DaemonRequest.Freeze(id(tree)));
  }

  @Override
  public void thaw(NodeTree tree) throws IOException {
    client.call(new DaemonRequest.Thaw(id(tree)));
  }

  @Override
  public Map<String, String> dump(NodeTree tree, LaunchSpec spec, Path imageDir, java.time.Duration timeout)
      throws IOException {
    return dump(tree, spec, imageDir, timeout, ProgressListener.NONE);
  }

  /** crmpid reports the bytes CRIU has written, of the tree's memory (an estimate of the image's size). */
  @Override
  public Map<String, String> dump(NodeTree tree, LaunchSpec spec, Path imageDir, java.time.Duration timeout,
      ProgressListener progress) throws IOException {
    if (!imageDir.getFileName().toString().equals("image")) {
      throw new IllegalArgumentException("crmpid dumps into NODE_DIR/image, not " + imageDir);
    }
    return client.call(new DaemonRequest.Dump(id(tree), imageDir.getParent(), timeout.toMillis()),
        DaemonReply.Dumped.class, progress).attributes();
  }

  @Override
  public PersistedImage persist(NodeTree tree, LaunchSpec spec, Path imageDir, long epoch,
      Map<String, String> attributes) throws IOException {
    DaemonReply.Persisted p = client.call(new DaemonRequest.Persist(id(tree), epoch), DaemonReply.Persisted.class);
    return new PersistedImage(p.files(), p.attributes());
  }

  /**
   * crmpid digests the image it persisted for epoch, seals it, and gives
   * its files to the owner. Without a tree (after a restart of crmpi), the
   * image of spec's job and node.
   */
  @Override
  public PersistedImage seal(NodeTree tree, LaunchSpec spec, Path imageDir, long epoch, PersistedImage persisted)
      throws IOException {
    TreeId id = tree == null ? new TreeId(spec.job(), spec.node()) : id(tree);
    DaemonReply.Sealed s = client.call(new DaemonRequest.Seal(id, epoch), DaemonReply.Sealed.class);
    return new PersistedImage(s.files(), s.attributes());
  }

  @Override
  public void exec(NodeTree tree, LaunchSpec spec, List<String> command) throws IOException {
    client.call(new DaemonRequest.Exec(id(tree), command));
  }

  @Override
  public void fence(LaunchSpec spec) throws IOException {
    client.call(new DaemonRequest.Fence(spec));
  }

  private static TreeId id(NodeTree tree) {
    if (tree instanceof DaemonTree t) {
      return t.id();
    }
    throw new IllegalArgumentException("not a tree of crmpid: " + tree);
  }
}

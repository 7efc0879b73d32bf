package io.crmpi.coordinator;

import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.Digests;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A node agent in the test's memory. It records every request it gets and
 * answers each kind of request as the test says: with success, a
 * {@link AgentReply.Failed}, an exceptionally completed future (a lost
 * connection), a future that never completes (a hung node), or a future
 * the test completes later ({@link #awaitHeld}, {@link #releaseHeld}).
 *
 * <p>A successful dump writes a small image file into
 * {@code epochDir/nodes/NODE/image}, and a successful persist digests it,
 * so that the committed epoch verifies like a real one.
 */
final class FakeAgent implements AgentChannel {
  /** How the agent answers one kind of request. */
  enum Answer { SUCCEED, FAIL, THROW, HANG, HOLD, ENDED }

  private final String node;
  private final List<AgentRequest> requests = new CopyOnWriteArrayList<>();
  private final Map<Class<? extends AgentRequest>, Answer> answers = new ConcurrentHashMap<>();
  private final BlockingQueue<Held> held = new LinkedBlockingQueue<>();
  private final List<Boolean> manifestPresentAtVacate = new CopyOnWriteArrayList<>();
  private volatile Path epochDir;
  /** Like crmpid: the persist answers files without digests, and the Seal brings them. */
  volatile boolean sealsLater;
  private final List<Boolean> manifestPresentAtSeal = new CopyOnWriteArrayList<>();
  /** Where this fake's partner port would listen (partner copies); null: it has none. */
  volatile String partnerEndpoint;

  private record Held(AgentRequest request, CompletableFuture<AgentReply> reply) {}

  FakeAgent(String node) {
    this.node = node;
  }

  /** From now on, answers requests of this kind so. */
  FakeAgent answer(Class<? extends AgentRequest> kind, Answer answer) {
    answers.put(kind, answer);
    return this;
  }

  /** Every request received, in order. */
  List<AgentRequest> requests() {
    return List.copyOf(requests);
  }

  /** The kinds of the requests received, in order, e.g. "Prepare". */
  List<String> kinds() {
    return requests.stream().map(r -> r.getClass().getSimpleName()).toList();
  }

  <T extends AgentRequest> List<T> requestsOf(Class<T> kind) {
    return requests.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  /** For each vacating Resume received: whether the epoch's manifest existed at that moment. */
  List<Boolean> manifestPresentAtVacate() {
    return List.copyOf(manifestPresentAtVacate);
  }

  /** For each Seal received: whether the epoch's manifest existed at that moment. */
  List<Boolean> manifestPresentAtSeal() {
    return List.copyOf(manifestPresentAtSeal);
  }

  /** Waits for a request answered with {@link Answer#HOLD}; fails the test after a few seconds. */
  AgentRequest awaitHeld() throws InterruptedException {
    Held h = held.peek();
    for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); h == null; h = held.peek()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("node " + node + " received no held request");
      }
      Thread.sleep(5);
    }
    return h.request();
  }

  /** Answers every held request with success. */
  void releaseHeld() {
    for (Held h; (h = held.poll()) != null; ) {
      h.reply().complete(succeed(h.request()));
    }
  }

  @Override
  public String node() {
    return node;
  }

  @Override
  public String partnerEndpoint() {
    return partnerEndpoint;
  }

  @Override
  public CompletableFuture<AgentReply> send(AgentRequest request) {
    requests.add(request);
    return switch (answers.getOrDefault(request.getClass(), Answer.SUCCEED)) {
      case SUCCEED -> CompletableFuture.completedFuture(succeed(request));
      case FAIL -> CompletableFuture.completedFuture(new AgentReply.Failed(node, request.epoch(),
          "injected failure of " + request.getClass().getSimpleName()));
      case THROW -> CompletableFuture.failedFuture(new IOException("connection to " + node + " lost"));
      case HANG -> new CompletableFuture<>();
      case ENDED -> CompletableFuture.completedFuture(new AgentReply.TreeEnded(node, request.epoch()));
      case HOLD -> {
        CompletableFuture<AgentReply> reply = new CompletableFuture<>();
        held.add(new Held(request, reply));
        yield reply;
      }
    };
  }

  private AgentReply succeed(AgentRequest request) {
    try {
      if (request instanceof AgentRequest.Dump d) {
        return dump(d);
      }
      if (request instanceof AgentRequest.Resume r) {
        return resume(r);
      }
      if (request instanceof AgentRequest.Persist p) {
        return persist(p);
      }
      if (request instanceof AgentRequest.Seal x) {
        return seal(x);
      }
      if (request instanceof AgentRequest.Reseal x) {
        return new AgentReply.Sealed(node, x.epoch(), x.image().sealedAs(
            Digests.digestTree(imageDir()),
            Map.of("stdout", "pipe:[1]", "crmpidSeal", "cd".repeat(32))), 2);
      }
      if (request instanceof AgentRequest.Flush f) {
        return flush(f);
      }
      if (request instanceof AgentRequest.Replicate r) {
        return new AgentReply.Replicated(node, r.epoch(), 4096, 1);
      }
      if (request instanceof AgentRequest.Prune p) {
        return new AgentReply.Pruned(node, p.epoch(), io.crmpi.store.NodeLocalLevel.at(p.localJobDir()).prune(p.keep()));
      }
      return new AgentReply.Prepared(node, request.epoch());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private AgentReply dump(AgentRequest.Dump d) throws IOException {
    epochDir = d.epochDir();
    Path image = imageDir();
    Files.createDirectories(image);
    Files.writeString(image.resolve("pages-1.img"), "pages of " + node + " at epoch " + d.epoch(),
        StandardCharsets.UTF_8);
    return new AgentReply.Dumped(node, d.epoch(), 7);
  }

  private AgentReply resume(AgentRequest.Resume r) {
    if (r.vacate()) {
      manifestPresentAtVacate.add(epochDir != null && Files.exists(epochDir.resolve("manifest.json")));
    }
    return new AgentReply.Resumed(node, r.epoch());
  }

  private AgentReply persist(AgentRequest.Persist p) throws IOException {
    if (epochDir == null) {
      return new AgentReply.Failed(node, p.epoch(), "no dump to persist");
    }
    List<FileDigest> files = Digests.digestTree(imageDir());
    if (sealsLater) {
      files = files.stream().map(f -> FileDigest.unsealed(f.path(), f.size())).toList();
    }
    NodeImage image = new NodeImage(node, "nodes/" + node + "/image", files, null, null, List.of(),
        Map.of("stdout", "pipe:[1]"));
    return new AgentReply.Persisted(node, p.epoch(), image, 3);
  }

  private AgentReply seal(AgentRequest.Seal x) throws IOException {
    manifestPresentAtSeal.add(epochDir != null && Files.exists(epochDir.resolve("manifest.json")));
    NodeImage image = new NodeImage(node, "nodes/" + node + "/image", Digests.digestTree(imageDir()), null, null,
        List.of(), Map.of("stdout", "pipe:[1]", "crmpidSeal", "ab".repeat(32)));
    return new AgentReply.Sealed(node, x.epoch(), image, 2);
  }

  /** Copies this node's part of the epoch from the node-local level to the state directory. */
  private AgentReply flush(AgentRequest.Flush f) throws IOException {
    Path from = f.localEpochDir().resolve("nodes").resolve(node);
    Path to = f.sharedEpochDir().resolve("nodes").resolve(node);
    long bytes = 0;
    try (java.util.stream.Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          bytes += Files.size(p);
        }
      }
    }
    return new AgentReply.Flushed(node, f.epoch(), bytes, 0, 1);
  }

  private Path imageDir() {
    return epochDir.resolve("nodes").resolve(node).resolve("image");
  }
}

package io.crmpi.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.crmpi.agent.NodeHandle;
import io.crmpi.nativeio.Posix;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.protocol.PartnerSource;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import io.crmpi.store.NodeLocalLevel;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two node slots with partner ports, each with a node-local directory of
 * its own (two hosts): node0 copies its part to node1; node0's host is
 * then lost, and its slot on a third host fetches the part from node1 and
 * restores from the fetched copy.
 */
class PartnerSlotTest {
  private static final String KEY = "k".repeat(48);

  @TempDir
  Path root;

  private final List<PartnerSlot> opened = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    opened.forEach(PartnerSlot::close);
  }

  private PartnerSlot slot(NodeHandle inner, String host) throws Exception {
    Files.createDirectories(root.resolve(host));
    PartnerSlot s = PartnerSlot.open(inner, InetAddress.getLoopbackAddress(), KEY,
        NodeLocalLevel.of(root.resolve(host), Posix.uid(), "job").jobDir());
    opened.add(s);
    return s;
  }

  private static NodeHandle handle(String node) {
    NodeHandle h = mock(NodeHandle.class);
    when(h.node()).thenReturn(node);
    return h;
  }

  @Test
  void aPartCopiedToThePartnerIsFetchedBackOnAnotherHostAndRestoredFromThere() throws Exception {
    NodeHandle inner0 = handle("node0");
    PartnerSlot node0 = slot(inner0, "host-a");
    PartnerSlot node1 = slot(handle("node1"), "host-b");
    NodeLocalLevel levelA = NodeLocalLevel.of(root.resolve("host-a"), Posix.uid(), "job");
    byte[] pages = new byte[3 << 20];
    new Random(7).nextBytes(pages);
    Path image = Files.createDirectories(levelA.epochDir(4).resolve("nodes/node0/image"));
    Files.write(image.resolve("pages-1.img"), pages);

    AgentReply r = node0.send(new AgentRequest.Replicate(4, levelA.jobDir(), "node1", node1.partnerEndpoint()))
        .get(30, TimeUnit.SECONDS);
    assertEquals(pages.length, assertInstanceOf(AgentReply.Replicated.class, r).bytes());
    NodeLocalLevel levelB = NodeLocalLevel.of(root.resolve("host-b"), Posix.uid(), "job");
    assertArrayEquals(pages, Files.readAllBytes(levelB.partnerDir("node0", 4).resolve("image/pages-1.img")));

    // node0's host is lost: its slot now runs on host-c, which has nothing.
    NodeHandle inner0c = handle("node0");
    PartnerSlot moved = slot(inner0c, "host-c");
    NodeLocalLevel levelC = NodeLocalLevel.of(root.resolve("host-c"), Posix.uid(), "job");
    NodeImage img = new NodeImage("node0", "nodes/node0/image",
        List.of(new FileDigest("pages-1.img", pages.length, "00".repeat(32))), null, null, List.of(), Map.of(),
        null);
    List<String> log = new CopyOnWriteArrayList<>();
    List<Path> dirs = List.of(levelC.epochDir(4), root.resolve("state/epochs/4"));
    moved.restore(dirs, 4, img, new PartnerSource(List.of(moved.partnerEndpoint(), node1.partnerEndpoint()),
        levelC.epochDir(4)), log::add);
    assertArrayEquals(pages, Files.readAllBytes(levelC.epochDir(4).resolve("nodes/node0/image/pages-1.img")));
    verify(inner0c).restore(eq(dirs), eq(4L), eq(img), any());
    assertTrue(log.stream().anyMatch(l -> l.startsWith("node node0: fetched its part of epoch 4 from the partner"
        + " copy at " + node1.partnerEndpoint())), log.toString());
  }

  @Test
  void aPartNoPartnerHoldsLeavesTheRestoreToTheNextLevel() throws Exception {
    NodeHandle inner = handle("node0");
    PartnerSlot moved = slot(inner, "host-c");
    PartnerSlot other = slot(handle("node1"), "host-b");
    NodeLocalLevel levelC = NodeLocalLevel.of(root.resolve("host-c"), Posix.uid(), "job");
    NodeImage img = new NodeImage("node0", "nodes/node0/image", List.of(new FileDigest("pages-1.img", 1, "00"
        .repeat(32))), null, null, List.of(), Map.of(), null);
    List<String> log = new CopyOnWriteArrayList<>();
    List<Path> dirs = List.of(levelC.epochDir(9), root.resolve("state/epochs/9"));
    moved.restore(dirs, 9, img, new PartnerSource(List.of(other.partnerEndpoint()), levelC.epochDir(9)), log::add);
    verify(inner).restore(eq(dirs), eq(9L), eq(img), any());
    assertFalse(Files.exists(levelC.epochDir(9).resolve("nodes/node0")), "a half copy was left");
    assertTrue(log.contains("node node0: no partner port holds its part of epoch 9; the restore reads another"
        + " level"), log.toString());
  }

  @Test
  void everyOtherRequestIsTheSlots() throws Exception {
    NodeHandle inner = handle("node0");
    AgentReply prepared = new AgentReply.Prepared("node0", 3);
    when(inner.send(any())).thenReturn(CompletableFuture.completedFuture(prepared));
    PartnerSlot s = slot(inner, "host-a");
    assertEquals(prepared, s.send(new AgentRequest.Prepare(3)).get(5, TimeUnit.SECONDS));
    assertTrue(s.partnerEndpoint().matches("127\\.0\\.0\\.1:\\d+"), s.partnerEndpoint());
  }
}

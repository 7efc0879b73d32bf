package io.crmpi.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.crmpi.engine.Engine;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.NodeTree;
import io.crmpi.engine.TreeExit;
import io.crmpi.fault.Faults;
import io.crmpi.store.Digests;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import io.crmpi.workdir.WorkdirWatch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node agent restores from the first storage level whose copy of its part
 * is whole, and from the next one when the restore from a level fails.
 */
class NodeAgentLevelRestoreTest {
  @TempDir
  Path root;
  private final Engine engine = mock(Engine.class);
  private final NodeTree tree = mock(NodeTree.class);
  private final List<String> log = new ArrayList<>();
  private Path local;
  private Path shared;
  private NodeImage image;
  private NodeAgent agent;

  @BeforeEach
  void setUp() throws IOException {
    local = root.resolve("local/epochs/0000000004");
    shared = root.resolve("state/epochs/0000000004");
    for (Path epoch : List.of(local, shared)) {
      Files.createDirectories(epoch.resolve("nodes/node0/image"));
      Files.writeString(epoch.resolve("nodes/node0/image/pages-1.img"), "pages of node0");
    }
    List<FileDigest> files = Digests.digestTree(shared.resolve("nodes/node0/image"));
    image = new NodeImage("node0", "nodes/node0/image", files, null, null, List.of(), Map.of());
    when(tree.stdout()).thenReturn(InputStream.nullInputStream());
    when(tree.stderr()).thenReturn(InputStream.nullInputStream());
    when(tree.exit()).thenReturn(new CompletableFuture<TreeExit>());
    LaunchSpec spec = new LaunchSpec("job-7", "node0", List.of("sleep", "infinity"), root.resolve("work"), Map.of(),
        root.resolve("run/node0"), null);
    agent = new NodeAgent(spec, engine, (s, b, o, l) -> { }, Faults.none(), mock(WorkdirWatch.class),
        System::nanoTime, null, java.time.Duration.ofSeconds(5));
  }

  @Test
  void theNodeLocalCopyIsReadFirst() throws Exception {
    when(engine.restore(any(), any(), any(), anyLong(), any())).thenReturn(tree);
    agent.restore(List.of(local, shared), 4, image, log::add);
    verify(engine).restore(any(), eq(local.resolve("nodes/node0/image")), eq(image), eq(4L), any());
    verify(engine, never()).restore(any(), eq(shared.resolve("nodes/node0/image")), any(), anyLong(), any());
  }

  @Test
  void aMissingOrShortNodeLocalCopyIsPassedOverForTheStateDirectory() throws Exception {
    Files.writeString(local.resolve("nodes/node0/image/pages-1.img"), "pages");
    when(engine.restore(any(), any(), any(), anyLong(), any())).thenReturn(tree);
    agent.restore(List.of(local, shared), 4, image, log::add);
    verify(engine).restore(any(), eq(shared.resolve("nodes/node0/image")), eq(image), eq(4L), any());
    assertTrue(log.get(0).contains("its copy in " + local + " is not usable") && log.get(0).contains("trying " + shared),
        log.toString());
  }

  @Test
  void aRestoreThatFailsFromOneLevelIsFencedAndTriedFromTheNext() throws Exception {
    when(engine.restore(any(), eq(local.resolve("nodes/node0/image")), any(), anyLong(), any()))
        .thenThrow(new IOException("crmpid: image file pages-1.img does not match its sealed digest"));
    when(engine.restore(any(), eq(shared.resolve("nodes/node0/image")), any(), anyLong(), any())).thenReturn(tree);
    agent.restore(List.of(local, shared), 4, image, log::add);
    verify(engine).fence(any());
    assertTrue(log.stream().anyMatch(l -> l.contains("the restore from " + local + " failed (crmpid: image file")),
        log.toString());
  }

  @Test
  void withNoUsableLevelLeftTheLastProblemIsThrown() throws Exception {
    Files.delete(local.resolve("nodes/node0/image/pages-1.img"));
    Files.delete(shared.resolve("nodes/node0/image/pages-1.img"));
    IOException e = assertThrows(IOException.class, () -> agent.restore(List.of(local, shared), 4, image, log::add));
    assertEquals("node node0: image files missing or of the wrong size", e.getMessage());
    verify(engine, never()).restore(any(), any(), any(), anyLong(), any());
  }

  /** The state directory's copy stored as chunks by a flush, the node-local copy gone; returns the image's bytes. */
  private byte[] chunkedSharedCopyOnly() throws IOException {
    byte[] pages = new byte[600 * 1024];
    new java.util.Random(4).nextBytes(pages);
    Files.write(local.resolve("nodes/node0/image/pages-1.img"), pages);
    Files.writeString(local.resolve("nodes/node0/image/core-1.img"), "core");
    image = new NodeImage("node0", "nodes/node0/image", Digests.digestTree(local.resolve("nodes/node0/image")),
        null, null, List.of(), Map.of());
    io.crmpi.store.DurableFiles.deleteTree(shared.resolve("nodes"));
    LevelFlush.flush(local, shared, null, null, "nodes/node0", n -> { }, () -> false,
        new LevelFlush.Format(true, 1), 4);
    assertTrue(Files.exists(shared.resolve("nodes/node0/image/pages-1.img.crmpi-chunks")));
    assertTrue(Files.exists(shared.resolve("nodes/node0/image/core-1.img")), "small images are copied as they are");
    io.crmpi.store.DurableFiles.deleteTree(local.resolve("nodes"));
    return pages;
  }

  @Test
  void imagesStoredAsChunksArePutBackTogetherAtTheNodeLocalLevelAndRestoredFromThere() throws Exception {
    byte[] pages = chunkedSharedCopyOnly();
    when(engine.restore(any(), any(), any(), anyLong(), any())).thenReturn(tree);
    agent.restore(List.of(local, shared), 4, image, log::add);
    verify(engine).restore(any(), eq(local.resolve("nodes/node0/image")), eq(image), eq(4L), any());
    org.junit.jupiter.api.Assertions.assertArrayEquals(pages,
        Files.readAllBytes(local.resolve("nodes/node0/image/pages-1.img")));
    assertEquals("core", Files.readString(local.resolve("nodes/node0/image/core-1.img")));
    assertTrue(log.stream().anyMatch(l -> l.contains("back together from the chunks in " + shared)), log.toString());
  }

  @Test
  void aDamagedChunkFailsTheRestoreBeforeAnythingIsRestoredAndLeavesNoHalfCopy() throws Exception {
    chunkedSharedCopyOnly();
    Path packs = root.resolve("state/chunks/packs");
    Path pack;
    try (var s = Files.list(packs)) {
      pack = s.findFirst().orElseThrow();
    }
    byte[] b = Files.readAllBytes(pack);
    b[b.length / 2] ^= 0x40;
    Files.write(pack, b);
    IOException e = assertThrows(IOException.class, () -> agent.restore(List.of(local, shared), 4, image, log::add));
    assertTrue(e.getMessage().contains("SHA-256") || e.getMessage().contains("decompress"), e.getMessage());
    verify(engine, never()).restore(any(), any(), any(), anyLong(), any());
    try (var s = Files.list(local.resolve("nodes/node0"))) {
      assertEquals(List.of(), s.toList(), "no half-built image directory is left");
    }
  }

  @Test
  void whenTheNodeLocalLevelCannotTakeThemTheImagesArePutTogetherBesideTheChunks() throws Exception {
    byte[] pages = chunkedSharedCopyOnly();
    io.crmpi.store.DurableFiles.deleteTree(root.resolve("local"));
    Files.createDirectories(root.resolve("local"));
    Files.writeString(root.resolve("local/epochs"), "not a directory: no node-local level on this node");
    when(engine.restore(any(), any(), any(), anyLong(), any())).thenReturn(tree);
    agent.restore(List.of(local, shared), 4, image, log::add);
    Path aside = shared.resolve(Rehydration.ASIDE);
    verify(engine).restore(any(), eq(aside.resolve("nodes/node0/image")), eq(image), eq(4L), any());
    org.junit.jupiter.api.Assertions.assertArrayEquals(pages,
        Files.readAllBytes(aside.resolve("nodes/node0/image/pages-1.img")));
    assertTrue(log.stream().anyMatch(l -> l.contains("cannot put its images together at the node-local level")),
        log.toString());
  }
}

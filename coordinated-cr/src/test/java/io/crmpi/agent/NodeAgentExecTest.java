package io.crmpi.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.crmpi.engine.Engine;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.NodeTree;
import io.crmpi.engine.TreeExit;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.workdir.WorkdirWatch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * mpirun starts its daemons in the other nodes' trees (crmpi-rsh, EXEC)
 * whenever it likes, also while a checkpoint has those trees frozen: a
 * process started into a frozen tree would stay frozen, and its launcher
 * would wait for it until it gave up. Such a start waits for the thaw.
 */
class NodeAgentExecTest {
  private static final LaunchSpec SPEC = new LaunchSpec("job-7", "node1", List.of("sleep", "infinity"),
      Path.of("/work"), Map.of(), Path.of("/state/run/node1"), null);
  private static final List<String> ORTED = List.of("/bin/sh", "-c", "orted");
  private final Engine engine = mock(Engine.class);
  private final NodeTree tree = mock(NodeTree.class);
  private final List<String> events = new CopyOnWriteArrayList<>();

  private NodeAgent agent() throws IOException {
    when(tree.stdout()).thenReturn(InputStream.nullInputStream());
    when(tree.stderr()).thenReturn(InputStream.nullInputStream());
    when(tree.exit()).thenReturn(new CompletableFuture<TreeExit>());
    when(tree.isAlive()).thenReturn(true);
    when(engine.launch(any())).thenReturn(tree);
    doAnswer(i -> events.add("freeze")).when(engine).freeze(tree);
    doAnswer(i -> events.add("thaw")).when(engine).thaw(tree);
    doAnswer(i -> events.add("exec")).when(engine).exec(eq(tree), any(), eq(ORTED));
    NodeAgent a = new NodeAgent(SPEC, engine, (s, b, o, l) -> { }, Faults.parse(""), mock(WorkdirWatch.class),
        System::nanoTime, null, java.time.Duration.ofSeconds(5));
    a.launch();
    return a;
  }

  private static CompletableFuture<Void> execAsync(NodeAgent a) {
    return CompletableFuture.runAsync(() -> {
      try {
        a.exec(ORTED);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Test
  void aStartAskedForWhileTheTreeIsFrozenWaitsForTheThaw() throws Exception {
    NodeAgent a = agent();
    assertInstanceOf(AgentReply.Prepared.class, a.send(new AgentRequest.Prepare(1)).get(10, TimeUnit.SECONDS));
    CompletableFuture<Void> started = execAsync(a);
    Thread.sleep(300);
    assertFalse(started.isDone(), "a process was started into the frozen tree");
    assertInstanceOf(AgentReply.Resumed.class, a.send(AgentRequest.Resume.proceed(1)).get(10, TimeUnit.SECONDS));
    started.get(10, TimeUnit.SECONDS);
    assertEquals(List.of("freeze", "thaw", "exec"), events);
  }

  @Test
  void aStartOutsideACheckpointRunsAtOnce() throws Exception {
    NodeAgent a = agent();
    a.exec(ORTED);
    assertEquals(List.of("exec"), events);
  }

  @Test
  void aStartWhoseTreeWasKilledByAVacateFailsInsteadOfWaiting() throws Exception {
    NodeAgent a = agent();
    a.send(new AgentRequest.Prepare(2)).get(10, TimeUnit.SECONDS);
    CompletableFuture<Void> started = execAsync(a);
    Thread.sleep(200);
    when(tree.isAlive()).thenReturn(false);
    a.send(new AgentRequest.Resume(2, true, true)).get(10, TimeUnit.SECONDS); // the vacate kills the tree
    Exception e = assertThrows(Exception.class, () -> started.get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("has no running node tree"), e.getCause().getMessage());
    verify(engine, never()).exec(any(), any(), any());
  }
}

package io.crmpi.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doThrow;
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
import org.junit.jupiter.api.Test;

/** A node agent whose tree cannot be thawed after a dump kills the tree instead of leaving the job frozen. */
class NodeAgentResumeTest {
  private static final LaunchSpec SPEC = new LaunchSpec("job-7", "node0", List.of("sleep", "infinity"),
      Path.of("/work"), Map.of(), Path.of("/state/run/node0"), null);
  private final Engine engine = mock(Engine.class);
  private final NodeTree tree = mock(NodeTree.class);
  private final CompletableFuture<TreeExit> exit = new CompletableFuture<>();
  private final List<TreeExit> exits = new java.util.concurrent.CopyOnWriteArrayList<>();

  private NodeAgent agent(String faults) throws IOException {
    when(tree.stdout()).thenReturn(InputStream.nullInputStream());
    when(tree.stderr()).thenReturn(InputStream.nullInputStream());
    when(tree.exit()).thenReturn(exit);
    when(tree.isAlive()).thenReturn(true);
    when(engine.launch(any())).thenReturn(tree);
    NodeAgent a = new NodeAgent(SPEC, engine, (s, b, o, l) -> { }, Faults.parse(faults), mock(WorkdirWatch.class),
        System::nanoTime, null, java.time.Duration.ofSeconds(5));
    a.onTreeExit(exits::add);
    a.launch();
    return a;
  }

  @Test
  void aTreeThatCannotBeThawedIsKilled() throws Exception {
    NodeAgent a = agent("");
    doThrow(new IOException("cannot write freezer.state")).when(engine).thaw(tree);
    AgentReply r = a.handle(AgentRequest.Resume.proceed(3));
    assertEquals("cannot write freezer.state", assertInstanceOf(AgentReply.Failed.class, r).message());
    verify(tree).kill();
    exit.complete(new TreeExit(137, true)); // the kill, as the tree reports it
    assertEquals(List.of(new TreeExit(TreeExit.UNRESUMABLE, false)), exits, "the job would take it for a stop");
    assertEquals("could not be resumed after a checkpoint, so crmpi killed it", exits.get(0).describe());
  }

  @Test
  void aResumeFaultKillsTheTreeWithoutThawingIt() throws Exception {
    NodeAgent a = agent("resume@3");
    AgentReply r = a.handle(AgentRequest.Resume.proceed(3));
    assertEquals("injected fault 'resume' at epoch 3", assertInstanceOf(AgentReply.Failed.class, r).message());
    verify(tree).kill();
    verify(engine, never()).thaw(tree);
  }

  @Test
  void aGoodResumeThawsAndKillsNothing() throws Exception {
    NodeAgent a = agent("resume@4");
    assertInstanceOf(AgentReply.Resumed.class, a.handle(AgentRequest.Resume.proceed(3)));
    verify(engine).thaw(tree);
    verify(tree, never()).kill();
    exit.complete(new TreeExit(143, true));
    assertEquals(List.of(new TreeExit(143, true)), exits, "crmpi's own stop must stay a stop");
  }

  @Test
  void aTreeThatEndsUnderTheFreezeIsReportedAsEndedAndNotKilledOnResume() throws Exception {
    NodeAgent a = agent("");
    doThrow(new IOException("crmpid: /sys/fs/cgroup/crmpi.job-7.node0/cgroup.freeze")).when(engine).freeze(tree);
    exit.complete(new TreeExit(0, false)); // the job's own end, under the freeze
    when(tree.isAlive()).thenReturn(true, false);
    assertInstanceOf(AgentReply.TreeEnded.class, a.handle(new AgentRequest.Prepare(5)));
    assertInstanceOf(AgentReply.Resumed.class, a.handle(AgentRequest.Resume.proceed(5)));
    verify(engine, never()).thaw(tree);
    verify(tree, never()).kill();
  }

  @Test
  void aTreeThatHasAlreadyEndedIsNotFrozen() throws Exception {
    NodeAgent a = agent("");
    when(tree.isAlive()).thenReturn(false);
    assertInstanceOf(AgentReply.TreeEnded.class, a.handle(new AgentRequest.Prepare(5)));
    verify(engine, never()).freeze(tree);
  }

  @Test
  void aFreezeThatFailsOnALiveTreeIsAFailure() throws Exception {
    NodeAgent a = agent("");
    doThrow(new IOException("cannot write cgroup.freeze")).when(engine).freeze(tree);
    AgentReply r = a.handle(new AgentRequest.Prepare(5));
    assertEquals("cannot write cgroup.freeze", assertInstanceOf(AgentReply.Failed.class, r).message());
  }

  @Test
  void aPrepareThatFailsLateWaitsNoLongerThanTheCoordinatorDoes() throws Exception {
    java.util.List<Long> waits = new java.util.concurrent.CopyOnWriteArrayList<>();
    CompletableFuture<TreeExit> watched = new CompletableFuture<>() {
      @Override
      public TreeExit get(long timeout, java.util.concurrent.TimeUnit unit)
          throws java.util.concurrent.TimeoutException {
        waits.add(unit.toMillis(timeout));
        throw new java.util.concurrent.TimeoutException();
      }
    };
    when(tree.stdout()).thenReturn(InputStream.nullInputStream());
    when(tree.stderr()).thenReturn(InputStream.nullInputStream());
    when(tree.exit()).thenReturn(watched);
    when(tree.isAlive()).thenReturn(true);
    when(engine.launch(any())).thenReturn(tree);
    // The quiesce timeout is 1.5 s (the coordinator's prepare timeout 2 s); the freeze fails 1.6 s in.
    long[] clock = {0};
    NodeAgent a = new NodeAgent(SPEC, engine, (s, b, o, l) -> { }, Faults.parse(""), mock(WorkdirWatch.class),
        () -> clock[0], null, java.time.Duration.ofMillis(1500));
    a.launch();
    doThrow(new IOException("cannot write cgroup.freeze")).when(engine).freeze(tree);
    org.mockito.Mockito.doAnswer(inv -> {
      clock[0] += 1_600_000_000L;
      throw new IOException("cannot write cgroup.freeze");
    }).when(engine).freeze(tree);
    assertInstanceOf(AgentReply.Failed.class, a.handle(new AgentRequest.Prepare(5)));
    assertEquals(List.of(150L), waits, "the wait for the tree's end must leave the answer inside 2 s");
  }
}

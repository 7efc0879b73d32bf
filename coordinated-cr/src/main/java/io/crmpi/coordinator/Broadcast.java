package io.crmpi.coordinator;

import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/** One request sent to every agent at once, and their answers gathered until a deadline. */
final class Broadcast {
  private Broadcast() {}

  /** The replies of one phase, by node, and what went wrong if anything. */
  record Phase(Map<String, AgentReply> replies, List<String> problems, boolean timedOut) {
    boolean ok(Class<? extends AgentReply> expected) {
      return problems.isEmpty() && replies.values().stream().allMatch(expected::isInstance);
    }

    /**
     * True when a node answered that its tree had already ended and every
     * other node did what was asked: the job is finishing, nothing failed.
     */
    boolean onlyTreesEnded(Class<? extends AgentReply> expected) {
      return problems.isEmpty() && replies.values().stream().anyMatch(AgentReply.TreeEnded.class::isInstance)
          && replies.values().stream().allMatch(r -> r instanceof AgentReply.TreeEnded || expected.isInstance(r));
    }

    String problem() {
      List<String> all = new ArrayList<>(problems);
      replies.values().stream()
          .filter(r -> r instanceof AgentReply.Failed)
          .map(r -> r.node() + ": " + ((AgentReply.Failed) r).message())
          .forEach(all::add);
      replies.values().stream()
          .filter(r -> r instanceof AgentReply.TreeEnded)
          .map(r -> r.node() + ": its tree has ended")
          .forEach(all::add);
      return String.join("; ", all);
    }
  }

  /**
   * Sends one request to every agent and waits for every answer, or for the
   * deadline: a canceller scheduled on {@link Deadlines} fails each answer
   * still missing then, so the wait never outlasts the timeout.
   */
  static Phase send(List<AgentChannel> agents, Function<AgentChannel, AgentRequest> request, Duration timeout,
      Deadlines deadlines) {
    Map<String, CompletableFuture<AgentReply>> answers = new LinkedHashMap<>();
    for (AgentChannel a : agents) {
      CompletableFuture<AgentReply> answer = new CompletableFuture<>();
      a.send(request.apply(a)).whenComplete((r, e) -> {
        if (e != null) {
          answer.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
        } else {
          answer.complete(r);
        }
      });
      answers.put(a.node(), answer);
    }
    Deadlines.Cancellable canceller = deadlines.after(timeout,
        () -> answers.values().forEach(f -> f.completeExceptionally(new TimeoutException())));
    Map<String, AgentReply> replies = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    boolean timedOut = false;
    try {
      for (Map.Entry<String, CompletableFuture<AgentReply>> e : answers.entrySet()) {
        String node = e.getKey();
        try {
          replies.put(node, e.getValue().get());
        } catch (ExecutionException ex) {
          if (ex.getCause() instanceof TimeoutException) {
            timedOut = true;
            problems.add(node + ": no reply within " + timeout.toMillis() + " ms");
          } else {
            problems.add(node + ": " + ex.getCause());
          }
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
          problems.add(node + ": interrupted");
        }
      }
    } finally {
      canceller.cancel();
    }
    return new Phase(replies, problems, timedOut);
  }
}

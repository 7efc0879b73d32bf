package io.crmpi.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with aligned columns, for status commands. */
final class Table {
  private final List<String[]> rows = new ArrayList<>();
  private final boolean[] rightAligned;

  Table(String... header) {
    rows.add(header);
    rightAligned = new boolean[header.length];
  }

  Table alignRight(int... columns) {
    for (int c : columns) {
      rightAligned[c] = true;
    }
    return this;
  }

  void add(Object... cells) {
    String[] row = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      row[i] = String.valueOf(cells[i]);
    }
    rows.add(row);
  }

  boolean isEmpty() {
    return rows.size() == 1;
  }

  String render() {
    int cols = rows.get(0).length;
    int[] width = new int[cols];
    for (String[] r : rows) {
      for (int i = 0; i < cols; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder b = new StringBuilder();
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        String cell = i < r.length ? r[i] : "";
        String pad = " ".repeat(width[i] - cell.length());
        line.append(rightAligned[i] ? pad + cell : cell + (i == cols - 1 ? "" : pad));
        if (i < cols - 1) {
          line.append("  ");
        }
      }
      b.append(line.toString().stripTrailing()).append('\n');
    }
    return b.toString();
  }
}

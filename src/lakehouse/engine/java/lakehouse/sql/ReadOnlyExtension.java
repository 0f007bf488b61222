package lakehouse.sql;

import java.util.Locale;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.command.SetCommand;
import scala.Option;
import scala.Tuple2;
import scala.collection.Iterator;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Makes a session read-only, for analysts' SQL endpoint: an analysis check rejects every command that
 * writes or changes state (CREATE, INSERT, MERGE, DROP, ALTER, ADD JAR, CACHE, ...), scripts run by
 * TRANSFORM, Java reflection in expressions, and SET on keys that would widen access (reading files
 * directly, catalogs, Hadoop settings, variable substitution). SHOW, DESCRIBE, EXPLAIN, USE, plain SET
 * and queries pass.
 */
public class ReadOnlyExtension extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {
  private static final String[] GUARDED_KEYS = {
    "spark.sql.runsqlonfiles", "spark.sql.catalog", "spark.hadoop.", "spark.sql.variable.substitute",
  };

  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    extensions.injectCheckRule(new AbstractFunction1<SparkSession, scala.Function1<LogicalPlan, BoxedUnit>>() {
      @Override
      public scala.Function1<LogicalPlan, BoxedUnit> apply(SparkSession session) {
        return new AbstractFunction1<LogicalPlan, BoxedUnit>() {
          @Override
          public BoxedUnit apply(LogicalPlan plan) {
            check(plan);
            return BoxedUnit.UNIT;
          }
        };
      }
    });
    return BoxedUnit.UNIT;
  }

  static void check(LogicalPlan plan) {
    String name = plan.getClass().getSimpleName();
    if (plan instanceof SetCommand) {
      checkSet((SetCommand) plan);
    } else if (plan instanceof Command && !readOnlyCommand(name)) {
      throw denied(name);
    }
    if (name.equals("ScriptTransformation") || name.startsWith("InsertInto")) {
      throw denied(name);
    }
    Iterator<LogicalPlan> children = plan.children().iterator();
    while (children.hasNext()) {
      check(children.next());
    }
    Iterator<Expression> expressions = plan.expressions().iterator();
    while (expressions.hasNext()) {
      checkExpression(expressions.next());
    }
  }

  private static void checkExpression(Expression expression) {
    String name = expression.getClass().getSimpleName();
    if (name.contains("Reflect")) {
      throw denied(name + " (reflect, java_method)");
    }
    if (expression instanceof SubqueryExpression) {
      check(((SubqueryExpression) expression).plan());
    }
    Iterator<Expression> children = expression.children().iterator();
    while (children.hasNext()) {
      checkExpression(children.next());
    }
  }

  private static boolean readOnlyCommand(String name) {
    return name.startsWith("Show")
        || name.startsWith("Describe")
        || name.equals("ExplainCommand")
        || name.equals("SetCatalogAndNamespace")
        || name.equals("SetNamespaceCommand");
  }

  private static void checkSet(SetCommand set) {
    Option<Tuple2<String, Option<String>>> kv = set.kv();
    if (kv.isEmpty() || kv.get()._2().isEmpty()) {
      return; // SET, SET -v, SET key: reading settings
    }
    String key = kv.get()._1().trim().toLowerCase(Locale.ROOT);
    for (String guarded : GUARDED_KEYS) {
      if (key.startsWith(guarded)) {
        throw denied("SET " + kv.get()._1().trim());
      }
    }
  }

  // an AnalysisException (the user's error class of raise_error), as for any query Spark refuses: the
  // Thrift server reports it and frees the session; another exception type leaves its worker thread hung
  private static RuntimeException denied(String what) {
    String message =
        "the SQL endpoint is read-only: " + what + " is not allowed (queries, SHOW, DESCRIBE, EXPLAIN are)";
    ReadOnlyExtension.<RuntimeException>raise(
        new AnalysisException(
            "USER_RAISED_EXCEPTION", new scala.collection.immutable.Map.Map1<>("errorMessage", message)));
    return null; // not reached: raise throws
  }

  // Scala code throws AnalysisException unchecked; Java needs this to do the same
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void raise(Throwable exception) throws T {
    throw (T) exception;
  }
}

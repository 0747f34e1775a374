// Parses Groovy files with the real Groovy compiler (to the CONVERSION phase: syntax and AST, nothing run) and
// prints, as one JSON document, what each holds: parse errors, every method called with its constant string
// arguments, and, for a declarative Jenkinsfile, its pipeline { } sections and each stage's sections and sh steps.
//
//   groovy groovyStructure.groovy FILE...
import groovy.json.JsonOutput
import org.codehaus.groovy.ast.ASTNode
import org.codehaus.groovy.ast.CodeVisitorSupport
import org.codehaus.groovy.ast.builder.AstBuilder
import org.codehaus.groovy.ast.expr.ClosureExpression
import org.codehaus.groovy.ast.expr.ConstantExpression
import org.codehaus.groovy.ast.expr.GStringExpression
import org.codehaus.groovy.ast.expr.MapExpression
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.ast.expr.TupleExpression
import org.codehaus.groovy.ast.stmt.BlockStatement
import org.codehaus.groovy.ast.stmt.ExpressionStatement
import org.codehaus.groovy.control.CompilePhase
import org.codehaus.groovy.control.MultipleCompilationErrorsException

/** The call a statement is, when it is a plain `name(args) { closure }` statement. */
MethodCallExpression callOf(statement) {
  if (statement instanceof ExpressionStatement && statement.expression instanceof MethodCallExpression) return statement.expression
  return null
}

List argumentsOf(MethodCallExpression call) {
  call.arguments instanceof TupleExpression ? call.arguments.expressions : []
}

ClosureExpression closureOf(MethodCallExpression call) {
  argumentsOf(call).find { it instanceof ClosureExpression }
}

List statementsOf(ClosureExpression closure) {
  closure?.code instanceof BlockStatement ? closure.code.statements : []
}

/** The text of a string argument: constants as they are, GStrings with their ${} as written. */
String textOf(expression) {
  if (expression instanceof ConstantExpression && expression.value instanceof String) return expression.value
  if (expression instanceof GStringExpression) return expression.verbatimText
  if (expression instanceof MapExpression) {
    def script = expression.mapEntryExpressions.find { it.keyExpression.text == 'script' }
    return script ? textOf(script.valueExpression) : null
  }
  return null
}

/** Every method call below a node: its name and its string arguments. */
List callsBelow(ASTNode node) {
  def calls = []
  node.visit(new CodeVisitorSupport() {
    void visitMethodCallExpression(MethodCallExpression call) {
      calls << [name: call.methodAsString, strings: argumentsOf(call).collect { textOf(it) }.findAll { it != null }]
      super.visitMethodCallExpression(call)
    }
  })
  calls
}

def report = args.collect { path ->
  def result = [file: path, errors: [], calls: [], pipeline: null]
  List nodes
  try {
    nodes = new AstBuilder().buildFromString(CompilePhase.CONVERSION, false, new File(path).getText('UTF-8'))
  } catch (MultipleCompilationErrorsException error) {
    result.errors << error.message.readLines().findAll { it.trim() }.join(' ')
    return result
  }
  def block = nodes.find { it instanceof BlockStatement }
  result.calls = callsBelow(block)
  def topLevel = block.statements
  def pipelineCall = topLevel.size() == 1 ? callOf(topLevel[0]) : null
  if (pipelineCall?.methodAsString != 'pipeline' || !closureOf(pipelineCall)) return result

  def sections = statementsOf(closureOf(pipelineCall)).collect { callOf(it) }
  def stagesCall = sections.find { it?.methodAsString == 'stages' }
  def stages = statementsOf(stagesCall ? closureOf(stagesCall) : null).collect { statement ->
    def stage = callOf(statement)
    def stageSections = statementsOf(stage ? closureOf(stage) : null).collect { callOf(it) }
    def steps = stageSections.find { it?.methodAsString == 'steps' }
    [
      call: stage?.methodAsString,
      name: stage ? argumentsOf(stage).collect { textOf(it) }.find { it != null } : null,
      sections: stageSections.collect { it?.methodAsString },
      sh: steps ? callsBelow(steps).findAll { it.name == 'sh' }.collect { it.strings[0] } : [],
      steps: steps ? statementsOf(closureOf(steps)).collect { callOf(it)?.methodAsString } : [],
    ]
  }
  result.pipeline = [sections: sections.collect { it?.methodAsString }, stages: stages]
  result
}
println JsonOutput.toJson(report)

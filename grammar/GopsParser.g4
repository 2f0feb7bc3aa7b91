// The syntax of the gops language. See docs/language.md.
//
// The parse tree is converted into gops' own AST right away (compiler/syntax), so
// nothing past the syntax layer sees ANTLR. Alternatives are kept few and with short
// common prefixes so that SLL prediction succeeds almost always.
parser grammar GopsParser;

options { tokenVocab = GopsLexer; }

file : decl* EOF ;

decl
  : APP name body                                           # appDecl
  | ENVIRONMENT name body                                   # environmentDecl
  | kind=(SERVICE | JOB | TEMPLATE) name (EXTENDS base=name)? body   # unitDecl
  | ROLLOUT name ASSIGN value                               # rolloutDecl
  | PROMOTE from=name ARROW to=name body?                   # promoteDecl
  | IMPORT STRING                                           # importDecl
  ;

body : LBRACE stmt* RBRACE ;

stmt
  : IN name body                                            # overrideStmt
  | STEP value (FOR | EVERY) value                          # stepStmt
  | ROLLBACK WHEN value (compare sum)? (FOR value)?          # rollbackStmt
  | name ASSIGN (value | body)                              # attrStmt
  | name body                                               # blockStmt
  | kind=IDENT label=name body                              # labeledBlockStmt
  | verb=IDENT listValue word=name listValue                # clauseStmt
  ;

compare : GT | GE | LT | LE ;

// A threshold: `1%`, or `stable + 0.5%` (a comparison with the stable version).
sum : value (PLUS value)? ;

listValue : LBRACK (value (COMMA value)* COMMA?)? RBRACK ;

value
  : STRING                                                  # stringValue
  | NUMBER UNIT?                                            # numberValue
  | DOTTED                                                  # dottedValue
  | (TRUE | FALSE)                                          # boolValue
  | listValue                                               # listValueAlt
  | name LPAREN (arg (COMMA arg)* COMMA?)? RPAREN           # callValue
  | name body                                               # objectValue
  | name                                                    # refValue
  ;

arg : (name ASSIGN)? value ;

// Keywords are reserved only where they start a declaration or statement.
name
  : IDENT | UNIT
  | APP | ENVIRONMENT | SERVICE | JOB | TEMPLATE | ROLLOUT | PROMOTE | IMPORT
  | EXTENDS | IN | STEP | FOR | EVERY | ROLLBACK | WHEN
  ;

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
  | ROLLBACK WHEN value (compare value)? (FOR value)?        # rollbackStmt
  | name ASSIGN value                                       # attrStmt
  | name body                                               # blockStmt
  ;

compare : GT | GE | LT | LE ;

value
  : STRING                                                  # stringValue
  | NUMBER UNIT?                                            # numberValue
  | DOTTED                                                  # dottedValue
  | (TRUE | FALSE)                                          # boolValue
  | LBRACK (value (COMMA value)* COMMA?)? RBRACK            # listValue
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

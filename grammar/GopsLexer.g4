// The tokens of the gops language. See docs/language.md for the language itself.
//
// Literals with units are single tokens where the unit is glued to the number
// (`30s`, `10%`, `512MiB`): NUMBER carries any alphabetic or `%` suffix and the
// checker decides whether the unit fits. Units written after a space (`512 MiB`,
// `0.25 vcpu`) are UNIT tokens. Comments go to a separate channel so the formatter
// and the language server can see them; whitespace is skipped.
//
// This grammar is the definition of the tokens. gops lexes with a hand-written scanner
// (compiler/syntax/scanner.cpp) that produces exactly the token stream of the lexer
// ANTLR generates from this file, ten times faster; the unit test "the scanner lexes
// exactly as the generated ANTLR lexer" holds the two together. Change both. The C++
// side lists the keyword rules and the UNIT rule's literals once, in
// compiler/syntax/keywords.def; the unit tests "keywords.def lists exactly ..." hold it
// to this file.
lexer grammar GopsLexer;

channels { COMMENTS }

// Declaration and statement keywords. They may still be used as attribute names.
APP         : 'app' ;
ENVIRONMENT : 'environment' ;
SERVICE     : 'service' ;
JOB         : 'job' ;
TEMPLATE    : 'template' ;
ROLLOUT     : 'rollout' ;
PROMOTE     : 'promote' ;
IMPORT      : 'import' ;
EXTENDS     : 'extends' ;
IN          : 'in' ;
STEP        : 'step' ;
FOR         : 'for' ;
EVERY       : 'every' ;
ROLLBACK    : 'rollback' ;
WHEN        : 'when' ;
TRUE        : 'true' ;
FALSE       : 'false' ;

// Units written after a space. The wrong spellings are tokens too, so that the
// checker can say which unit was meant instead of a confusing parse error.
UNIT
  : 'KiB' | 'MiB' | 'GiB' | 'TiB'
  | 'KB' | 'MB' | 'GB' | 'TB' | 'kb' | 'mb' | 'gb' | 'kib' | 'mib' | 'gib'
  | 'vcpu' | 'vCPU' | 'VCPU' | 'vcpus'
  ;

ARROW    : '->' ;
LBRACE   : '{' ;
RBRACE   : '}' ;
LBRACK   : '[' ;
RBRACK   : ']' ;
LPAREN   : '(' ;
RPAREN   : ')' ;
COMMA    : ',' ;
GE       : '>=' ;
LE       : '<=' ;
GT       : '>' ;
LT       : '<' ;
ASSIGN   : '=' ;
PLUS     : '+' ;

// Three or more dot-separated numbers, optionally with a prefix length: a CIDR block
// (`10.10.0.0/16`). Malformed ones (`10.10.0/16`) lex here too and get a checker error.
DOTTED   : DIGITS '.' DIGITS ('.' DIGITS)+ ('/' DIGITS)? ;
NUMBER   : DIGITS ('.' DIGITS)? [a-zA-Z%] [a-zA-Z0-9%]*
         | DIGITS ('.' DIGITS)?
         ;

IDENT    : [a-zA-Z_] [a-zA-Z0-9_]* ;

STRING   : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* '"' ;
// A string that reaches the end of its line without a closing quote.
UNTERMINATED_STRING : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* ;

DOC_COMMENT   : '///' ~[\r\n]* -> channel(COMMENTS) ;
LINE_COMMENT  : '//' ~[\r\n]* -> channel(COMMENTS) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(COMMENTS) ;
// A block comment with no `*/` before the end of the file.
UNTERMINATED_COMMENT : '/*' ( ~'*' | '*'+ ~[*/] )* '*'* EOF ;

BOM      : [\uFEFF] -> skip ;
WS       : [ \t\r\n\f]+ -> skip ;

// Anything else is one error token; the parser reports it in plain words.
ERROR_CHAR : . ;

fragment DIGITS : [0-9]+ ;

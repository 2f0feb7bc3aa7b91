" Vim syntax file for gops deployment specs (every token kind of grammar/GopsLexer.g4)
if exists("b:current_syntax") | finish | endif

" A declaration keyword starts a line and is followed by a name; `rollout = ...` is an attribute.
syn match   gopsDecl        "^\s*\zs\<\%(app\|environment\|service\|job\|template\|rollout\|promote\)\>\ze\s\+\h" nextgroup=gopsDeclName skipwhite
syn keyword gopsImport      import
syn keyword gopsKeyword     extends in step for every rollback when
syn keyword gopsBoolean     true false
syn match   gopsDeclName    "\<[A-Za-z_][A-Za-z0-9_]*\>" contained
syn match   gopsAttr        "\<[A-Za-z_][A-Za-z0-9_]*\>\ze\s*="
syn match   gopsBlock       "\<[A-Za-z_][A-Za-z0-9_]*\>\ze\s*{"
syn match   gopsCall        "\<[A-Za-z_][A-Za-z0-9_]*\>\ze\s*("
syn match   gopsNumber      "\<\d\+\%(\.\d\+\)\=\%([A-Za-z%][A-Za-z0-9%]*\)\="
" After gopsNumber: of two matches at one column the later defined wins.
syn match   gopsCidr        "\<\d\+\.\d\+\%(\.\d\+\)\+\%(/\d\+\)\="
syn match   gopsUnit        "\<\%(KiB\|MiB\|GiB\|TiB\|KB\|MB\|GB\|TB\|kb\|mb\|gb\|kib\|mib\|gib\|vcpus\|vcpu\|vCPU\|VCPU\)\>"
syn match   gopsOperator    "->\|>=\|<=\|[<>=]"
syn match   gopsEscape      "\\." contained
syn match   gopsInterp      "\${[^}]*}" contained
syn region  gopsString      start=+"+ skip=+\\.+ end=+"\|$+ contains=gopsEscape,gopsInterp
syn match   gopsDocComment  "///.*$" contains=@Spell
syn match   gopsComment     "//\%(/\)\@!.*$" contains=@Spell
syn region  gopsComment     start="/\*" end="\*/" contains=@Spell

hi def link gopsDecl       Keyword
hi def link gopsImport     Include
hi def link gopsKeyword    Keyword
hi def link gopsBoolean    Boolean
hi def link gopsDeclName   Type
hi def link gopsAttr       Identifier
hi def link gopsBlock      Structure
hi def link gopsCall       Function
hi def link gopsCidr       Number
hi def link gopsNumber     Number
hi def link gopsUnit       Type
hi def link gopsOperator   Operator
hi def link gopsEscape     SpecialChar
hi def link gopsInterp     PreProc
hi def link gopsString     String
hi def link gopsDocComment SpecialComment
hi def link gopsComment    Comment

let b:current_syntax = "gops"

" :make with `gops check` (quickfix list from its `--> file:line:col` lines)
if exists("current_compiler") | finish | endif
let current_compiler = "gops"
CompilerSet makeprg=gops\ check\ --color=never
CompilerSet errorformat=%E%trror[%.%#]:\ %m,%W%tarning[%.%#]:\ %m,%Z%\\s%#-->\ %f:%l:%c,%-G%.%#

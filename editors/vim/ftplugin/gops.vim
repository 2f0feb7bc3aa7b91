" gops: comments, indentation, and `gops fmt` as the formatter (gq / :GopsFmt).
if exists("b:did_ftplugin") | finish | endif
let b:did_ftplugin = 1

setlocal commentstring=//\ %s
setlocal comments=:///,://
setlocal expandtab shiftwidth=2 softtabstop=2 tabstop=2
setlocal autoindent smartindent
setlocal formatprg=gops\ fmt\ -
setlocal iskeyword=@,48-57,_

command! -buffer GopsFmt let s:view = winsaveview() | silent %!gops fmt - | call winrestview(s:view)
command! -buffer GopsCheck compiler! gops | make %:p:h

let b:undo_ftplugin = "setlocal commentstring< comments< expandtab< shiftwidth< softtabstop< tabstop< autoindent< smartindent< formatprg< iskeyword<"
      \ . " | delcommand GopsFmt | delcommand GopsCheck"

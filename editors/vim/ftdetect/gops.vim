" gops deployment specs
autocmd BufRead,BufNewFile *.gops setfiletype gops

--[[
tools/booklib.lua - what the book's Lua filters share (tools/include.lua,
tools/tree.lua, tools/book-check.lua, tools/number.lua, tools/index.lua).
Each filter loads it with

    package.path = "tools/?.lua;" .. package.path
    local booklib = require("booklib")

(pandoc runs from the repository's top, as tools/book.mk calls it).
]]

local booklib = {}

-- A function that stops the build with a message that names the filter.
function booklib.failer(name)
  return function(msg)
    io.stderr:write(name .. ": " .. msg .. "\n")
    os.exit(1)
  end
end

-- Has the block or span el the class?
function booklib.has_class(el, class)
  for _, c in ipairs(el.classes or {}) do
    if c == class then
      return true
    end
  end
  return false
end

return booklib

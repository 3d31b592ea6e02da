--[[
tools/book-check.lua - the book's checks at build time (pandoc 2.17 Lua
filter), run after tools/include.lua by every rule of tools/book.mk:

    pandoc --lua-filter tools/include.lua --lua-filter tools/book-check.lua ...

Building the PDF or the EPUB, pandoc only warns when a picture is missing
("Could not fetch resource") and leaves the caption where the chart should
be (only the self-contained HTML stops); a section with nothing in it
passes silently. This filter stops the build instead, with a message
naming what is wrong:

- every picture (![caption](path)) must be a file in pandoc's resource path
  (--resource-path): a chart the measurements did not draw, or a path
  mistyped. A path without an extension gets the rule's
  --default-image-extension (svg for HTML and EPUB, pdf for PDF), as pandoc
  does; where that option cannot be read, either extension will do.
- every section must have something in it: a header followed directly by a
  header of the same or a higher level (a smaller or equal level number),
  or by nothing at all, is an empty section (a chapter whose include went
  missing, a part whose text was cut). Blocks inside divs (::: instructor)
  count where they stand.

A missing include is tools/include.lua's to report; it runs first.
]]

package.path = "tools/?.lua;" .. package.path
local booklib = require("booklib")
local fail = booklib.failer("book-check.lua")

local function exists(path)
  local f = io.open(path, "r")
  if f then
    f:close()
    return true
  end
  return false
end

-- The file a picture's path names, looked up as pandoc does: in each
-- folder of the resource path in turn. Returns the path found, or nil.
local function lookup(path)
  for _, dir in ipairs(PANDOC_STATE.resource_path or { "." }) do
    local full = (dir == "." or path:sub(1, 1) == "/") and path or (dir .. "/" .. path)
    if exists(full) then
      return full
    end
  end
  return nil
end

-- The extensions a path without one may take.
local function default_extensions()
  local opts = PANDOC_READER_OPTIONS
  local ok, ext = pcall(function() return opts.default_image_extension end)
  if ok and ext and ext ~= "" then
    return { (ext:gsub("^%.", "")) }
  end
  return { "svg", "pdf" }
end

local function check_image(img)
  local src = img.src
  -- A data: URI or a URL is not a file of the book.
  if src:match("^%a[%w+.-]*:") then
    return nil
  end
  local path = src:gsub("[?#].*$", "")
  local candidates = { path }
  if not path:match("%.[%w]+$") then
    candidates = {}
    for _, ext in ipairs(default_extensions()) do
      candidates[#candidates + 1] = path .. "." .. ext
    end
  end
  for _, c in ipairs(candidates) do
    if lookup(c) then
      return nil
    end
  end
  local caption = pandoc.utils.stringify(img.caption)
  fail("picture " .. table.concat(candidates, " or ") .. " (\"" .. caption ..
    "\"): no such file (looked in: " .. table.concat(PANDOC_STATE.resource_path or { "." }, ", ") ..
    "); were the charts drawn (the measurements' .figures)?")
end

-- The document's blocks in reading order, with divs opened: a header's
-- contents are what follows it up to the next header.
local function flatten(blocks, out)
  for _, b in ipairs(blocks) do
    if b.t == "Div" then
      flatten(b.content, out)
    else
      out[#out + 1] = b
    end
  end
  return out
end

local function describe(h)
  local id = h.identifier ~= "" and (" {#" .. h.identifier .. "}") or ""
  return string.rep("#", h.level) .. " " .. pandoc.utils.stringify(h.content) .. id
end

local function check_sections(blocks)
  local flat = flatten(blocks, {})
  for i, b in ipairs(flat) do
    if b.t == "Header" then
      local nxt = flat[i + 1]
      if not nxt then
        fail("the section \"" .. describe(b) .. "\" is empty: nothing follows it")
      elseif nxt.t == "Header" and nxt.level <= b.level then
        fail("the section \"" .. describe(b) .. "\" is empty: the next thing in the book is \"" ..
          describe(nxt) .. "\"")
      end
    end
  end
end

return {
  {
    Pandoc = function(doc)
      pandoc.walk_block(pandoc.Div(doc.blocks), { Image = check_image })
      check_sections(doc.blocks)
      return nil
    end,
  },
}
